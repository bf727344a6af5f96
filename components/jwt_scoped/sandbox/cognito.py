"""Local Cognito: moto, in this process, holding the pools, app clients, domains, groups, users
and memberships the program registers, created in moto's Cognito backend from the recorded
``aws:cognito/*`` inputs (as its API would create them, without a round trip through HTTP).

moto's Cognito API (``InitiateAuth`` with ``USER_PASSWORD_AUTH``, ``REFRESH_TOKEN_AUTH``, ...,
and each pool's ``/.well-known/jwks.json``) is served on 127.0.0.1 by the sandbox's edge, so
boto3 and the AWS CLI work against ``endpoint``. Every token moto issues for a pool created here
first runs the pool's Pre Token Generation trigger (``TriggerIssuer``, through the one hook in
``sandbox/moto_hook.py``) in the local Lambda.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from jwt_scoped import cognito_urls
from jwt_scoped.recording import ACCOUNT

from . import cognito_trigger as trigger
from . import moto_hook
from .arns import function_ref
from .edge import Edge, url_of
from .lambdas import AccessDenied, FunctionNotFound, LambdaError, LocalLambda

# Seconds per unit of the app client's TokenValidityUnits; hours is Cognito's default unit for
# ID and access tokens, days for refresh tokens ("Configuring user pool app clients").
_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
_DEFAULT_UNITS = {"id": "hours", "access": "hours"}
DEFAULT_LIFETIME = 3600  # Cognito's default token validity, one hour
_VALIDITY_KEYS = {"id": ("IdTokenValidity", "IdToken"), "access": ("AccessTokenValidity",
                                                                    "AccessToken")}


def token_lifetime(client_config: Mapping[str, Any], token_use: str) -> int | None:
    """Seconds an ID or access token of this app client lives, or ``None`` (moto's 1 hour)."""
    value_key, unit_key = _VALIDITY_KEYS[token_use]
    value = client_config.get(value_key)
    if value is None:
        return None
    unit = (client_config.get("TokenValidityUnits") or {}).get(unit_key) or _DEFAULT_UNITS[token_use]
    return int(value) * _UNIT_SECONDS[unit]


def _pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def _api_value(value: Any) -> Any:
    """Pulumi inputs -> Cognito API values: camelCase keys to PascalCase, whole floats
    (numbers arrive as floats under the mocks) to ints."""
    if isinstance(value, dict):
        return {_pascal(k): _api_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_api_value(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _pick(inputs: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """API parameters from the inputs the sandbox models (input name -> API name)."""
    return {api: _api_value(inputs[key]) for key, api in names.items()
            if inputs.get(key) is not None}


_POOL = {"lambdaConfig": "LambdaConfig", "usernameConfiguration": "UsernameConfiguration",
         "adminCreateUserConfig": "AdminCreateUserConfig",
         "accountRecoverySetting": "AccountRecoverySetting",
         "deletionProtection": "DeletionProtection", "userPoolTier": "UserPoolTier",
         "mfaConfiguration": "MfaConfiguration", "autoVerifiedAttributes": "AutoVerifiedAttributes",
         "usernameAttributes": "UsernameAttributes", "aliasAttributes": "AliasAttributes"}
_CLIENT = {"generateSecret": "GenerateSecret", "explicitAuthFlows": "ExplicitAuthFlows",
           "allowedOauthFlowsUserPoolClient": "AllowedOAuthFlowsUserPoolClient",
           "allowedOauthFlows": "AllowedOAuthFlows", "allowedOauthScopes": "AllowedOAuthScopes",
           "callbackUrls": "CallbackURLs", "logoutUrls": "LogoutURLs",
           "defaultRedirectUri": "DefaultRedirectURI",
           "supportedIdentityProviders": "SupportedIdentityProviders",
           "preventUserExistenceErrors": "PreventUserExistenceErrors",
           "enableTokenRevocation": "EnableTokenRevocation",
           "idTokenValidity": "IdTokenValidity", "accessTokenValidity": "AccessTokenValidity",
           "refreshTokenValidity": "RefreshTokenValidity",
           "tokenValidityUnits": "TokenValidityUnits", "readAttributes": "ReadAttributes",
           "writeAttributes": "WriteAttributes"}


# The scope moto (like Cognito for API sign-ins) gives every access token.
BASE_SCOPE = "aws.cognito.signin.user.admin"


@dataclass
class TriggerIssuer:
    """Issues a pool's tokens the way Cognito does: run the Pre Token Generation trigger the
    pool's ``LambdaConfig`` names, in the local Lambda, as ``cognito-idp.amazonaws.com`` from
    the pool's ARN, then apply its answer and the app client's token lifetimes."""

    lambdas: LocalLambda

    def issue(self, request: moto_hook.TokenRequest) -> _Issuance:
        groups = sorted(request.groups, key=lambda g: (g.precedence is None, g.precedence or 0,
                                                       g.name))
        changes = None
        config = request.lambda_config.get("PreTokenGenerationConfig")
        if config is None and request.lambda_config.get("PreTokenGeneration"):
            config = {"LambdaArn": request.lambda_config["PreTokenGeneration"],
                      "LambdaVersion": "V1_0"}  # the legacy field invokes with V1_0 events
        if config:
            changes = self._run(config, request, groups)
        return _Issuance(request.client_config, [g.name for g in groups], changes,
                         request.context)

    def machine_changes(self, lambda_config: Mapping[str, Any], *, region: str, pool_id: str,
                        pool_arn: str, account: str, client_id: str,
                        scopes: list[str]) -> trigger.TokenChanges | None:
        """What the pool's trigger changes in a client-credentials access token, or ``None``
        when no trigger runs for one (only a ``V3_0`` trigger does). The event is the V3_0
        user event without a user: ``userName`` the client id, no attributes, no groups (the
        sandbox's reading of "aside from the circumstances of the resulting access tokens,
        version two and three events are identical")."""
        config = lambda_config.get("PreTokenGenerationConfig") or {}
        if config.get("LambdaVersion") not in trigger.MACHINE_VERSIONS:
            return None
        request = moto_hook.TokenRequest(
            region=region, account=account, user_pool_id=pool_id, user_pool_arn=pool_arn,
            lambda_config=lambda_config, client_id=client_id, client_config={},
            username=client_id, user_attributes={}, groups=(), refresh=False,
            context=moto_hook.Context(trigger.CLIENT_CREDENTIALS, tuple(scopes)))
        return self._run(config, request, [])

    def _run(self, config: Mapping[str, Any], request: moto_hook.TokenRequest,
             groups: list[moto_hook.Group]) -> trigger.TokenChanges:
        version = trigger.event_version(config.get("LambdaVersion", "V1_0"))
        roles = [g.role_arn for g in groups if g.role_arn]
        context = request.context
        source = (context.trigger_source if context is not None
                  else trigger.REFRESH if request.refresh else trigger.AUTHENTICATION)
        event = trigger.pre_token_event(
            version=version, trigger_source=source, region=request.region,
            user_pool_id=request.user_pool_id, username=request.username,
            client_id=request.client_id, user_attributes=request.user_attributes,
            groups=[g.name for g in groups], iam_roles=roles,
            preferred_role=roles[0] if roles else None,
            scopes=list(context.scopes) if context is not None else [BASE_SCOPE])
        try:
            answer = self.lambdas.invoke_as(
                trigger.COGNITO_PRINCIPAL, function_ref(str(config.get("LambdaArn", ""))), event,
                source_arn=request.user_pool_arn, source_account=request.account,
                timeout=trigger.TRIGGER_TIMEOUT_SECONDS)
        except AccessDenied:
            raise moto_hook.TriggerFailed(
                trigger.invocation_failure_message("AccessDeniedException")) from None
        except FunctionNotFound:
            raise moto_hook.TriggerFailed(
                trigger.invocation_failure_message("ResourceNotFoundException")) from None
        except LambdaError as error:
            raise moto_hook.TriggerFailed(trigger.failure_message(str(error))) from None
        try:
            return trigger.token_changes(version, answer)
        except trigger.Unrecognizable:
            raise moto_hook.TriggerFailed(trigger.failure_message(trigger.UNRECOGNIZABLE)) from None



@dataclass
class _Issuance:
    client_config: Mapping[str, Any]
    groups: list[str]
    changes: trigger.TokenChanges | None
    context: moto_hook.Context | None = None

    def claims(self, token_use: str, claims: dict) -> dict:
        if "cognito:groups" in claims:  # in precedence order, as the trigger saw them
            claims = {**claims, "cognito:groups": list(self.groups)}
        if self.context is not None:  # from the token endpoint: its scopes, and the nonce
            if token_use == "access":
                claims = {**claims, "scope": " ".join(self.context.scopes)}
            elif self.context.nonce is not None:
                claims = {**claims, "nonce": self.context.nonce}
        if self.changes is None:
            return claims
        return trigger.apply_changes(self.changes, token_use, claims)

    def expires_in(self, token_use: str) -> int | None:
        return token_lifetime(self.client_config, token_use)


@dataclass(frozen=True)
class AppClient:
    """An app client's OAuth settings, as the hosted UI and the token endpoint read them."""

    id: str
    pool_id: str
    secret: str | None
    """``None`` for a public client."""
    oauth: bool
    """``AllowedOAuthFlowsUserPoolClient``: whether the OAuth endpoints serve it at all."""
    flows: frozenset[str]
    """``AllowedOAuthFlows``: ``code``, ``implicit``, ``client_credentials``."""
    scopes: tuple[str, ...]
    """``AllowedOAuthScopes``."""
    callback_urls: tuple[str, ...]
    logout_urls: tuple[str, ...]
    revocation: bool
    """``EnableTokenRevocation`` (Cognito's default: on)."""
    prevent_user_existence_errors: bool
    read_attributes: tuple[str, ...]
    """``ReadAttributes``; empty: every attribute (Cognito's default)."""
    config: Mapping[str, Any]
    """The client's settings as moto holds them (token lifetimes, ...)."""

    @property
    def client_id(self) -> str:
        """oauthlib reads a request's client by this name."""
        return self.id


@dataclass(frozen=True)
class Tokens:
    """The tokens of one issuance through the OAuth endpoints."""

    access_token: str
    id_token: str
    refresh_token: str | None
    expires_in: int
    """Seconds the access token lives."""


class SignInRefused(Exception):
    """A user the hosted UI does not sign in; the message is Cognito's."""


class LocalCognito:
    """moto's Cognito, and what this sandbox created in it; ``serve`` puts its API on the edge."""

    def __init__(self, region: str, lambdas: LocalLambda):
        self.region = region
        self.lambdas = lambdas
        self.issuer = TriggerIssuer(lambdas)
        self._backend = None
        self._client = None
        self.pools: list[str] = []
        self.domains: dict[str, str] = {}
        """Domain prefix -> the user pool it serves."""
        self.domain_urls: dict[str, str] = {}
        """Domain prefix -> the local base URL of its hosted UI, once served."""
        self.endpoint: str | None = None
        self._tokens = threading.Lock()  # moto's token maps are plain dicts

    @property
    def backend(self):
        """moto's Cognito backend of this account and region (the hook installed first)."""
        if self._backend is None:
            from moto.cognitoidp.models import cognitoidp_backends

            moto_hook.install()
            self._backend = cognitoidp_backends[ACCOUNT][self.region]
        return self._backend

    def serve(self, edge: Edge, sock) -> None:
        """moto's API on ``sock`` (bound), from the edge: its WSGI app, as moto's own server
        runs it, through a2wsgi (the WSGI adapter uvicorn itself recommends); in front of it,
        each pool's discovery document (``CognitoApp``)."""
        from a2wsgi import WSGIMiddleware
        from moto.server import DomainDispatcherApplication, create_backend_app

        moto = WSGIMiddleware(DomainDispatcherApplication(create_backend_app))
        edge.serve(CognitoApp(moto, self.discovery), sock)
        self.endpoint = url_of(sock)

    def local_issuer(self, pool_id: str) -> str:
        """Where the pool's issuer documents (discovery, keys) are served locally."""
        return f"{self.endpoint}/{pool_id}"

    def discovery(self, pool_id: str) -> dict | None:
        """The pool's OpenID Connect discovery document, its endpoints the local hosted UI's
        (the pool's first domain), or ``None`` for a pool not created here."""
        if pool_id not in self.pools:
            return None
        domain = next((self.domain_urls[d] for d, p in self.domains.items()
                       if p == pool_id and d in self.domain_urls), None)
        return cognito_urls.openid_configuration(
            self.issuer_of(pool_id), self.local_issuer(pool_id) + cognito_urls.JWKS_PATH, domain)

    @property
    def client(self):
        """A boto3 client of the served API, as a user's program or the AWS CLI would use it
        (moto takes any credentials)."""
        if self._client is None:
            import boto3

            self._client = boto3.client(
                "cognito-idp", region_name=self.region, endpoint_url=self.endpoint,
                aws_access_key_id="sandbox", aws_secret_access_key="sandbox")  # noqa: S106
        return self._client

    def stop(self) -> None:
        """Forget the pools created here (moto's backend outlives the sandbox in this
        process)."""
        for pool_id in self.pools:
            moto_hook.release(pool_id)
            with contextlib.suppress(Exception):  # noqa: BLE001 -- best effort on the way out
                self.backend.delete_user_pool(pool_id)
        self.pools.clear()

    # -- resources, from the program's recorded inputs --

    def create_user_pool(self, name: str, inputs: Mapping[str, Any]) -> tuple[str, dict]:
        params = _pick(inputs, _POOL)
        if inputs.get("passwordPolicy"):
            params["Policies"] = {"PasswordPolicy": _api_value(inputs["passwordPolicy"])}
        if inputs.get("tags"):
            params["UserPoolTags"] = dict(inputs["tags"])
        pool = self.backend.create_user_pool(name, params)
        self.pools.append(pool.id)
        moto_hook.adopt(pool.id, self.issuer)
        return pool.id, {"arn": pool.arn, "name": name,
                         "endpoint": f"cognito-idp.{self.region}.amazonaws.com/{pool.id}",
                         "creationDate": pool.creation_date.isoformat(),
                         "estimatedNumberOfUsers": 0}

    def create_user_pool_client(self, name: str, inputs: Mapping[str, Any]) -> tuple[str, dict]:
        params = _pick(inputs, _CLIENT)
        generate_secret = bool(params.pop("GenerateSecret", False))
        client = self.backend.create_user_pool_client(inputs["userPoolId"], generate_secret,
                                                      {"ClientName": name, **params})
        return client.id, {"name": name,
                           "clientSecret": client.secret if client.generate_secret else ""}

    def create_user_pool_domain(self, inputs: Mapping[str, Any]) -> tuple[str, dict]:
        self.backend.create_user_pool_domain(inputs["userPoolId"], inputs["domain"], None)
        self.domains[inputs["domain"]] = inputs["userPoolId"]
        return inputs["domain"], {"cloudfrontDistribution": "",
                                  "cloudfrontDistributionArn": "", "version": ""}

    def create_resource_server(self, inputs: Mapping[str, Any]) -> tuple[str, dict]:
        scopes = [_api_value(scope) for scope in inputs.get("scopes") or ()]
        self.backend.create_resource_server(inputs["userPoolId"], inputs["identifier"],
                                            inputs.get("name") or inputs["identifier"], scopes)
        identifiers = [f"{inputs['identifier']}/{s['ScopeName']}" for s in scopes]
        return f"{inputs['userPoolId']}|{inputs['identifier']}", {"scopeIdentifiers": identifiers}

    def create_group(self, inputs: Mapping[str, Any]) -> tuple[str, dict]:
        precedence = inputs.get("precedence")
        self.backend.create_group(inputs["userPoolId"], inputs["name"], inputs.get("description"),
                                  inputs.get("roleArn"),
                                  None if precedence is None else int(precedence))
        return f"{inputs['userPoolId']}/{inputs['name']}", {}

    def create_user(self, inputs: Mapping[str, Any]) -> tuple[str, dict]:
        """``AdminCreateUser``; with ``password``, ``AdminSetUserPassword`` as permanent (what
        the AWS provider does), so the user can sign in at once."""
        pool, username = inputs["userPoolId"], inputs["username"]
        attributes = [{"Name": k, "Value": str(v)} for k, v in (inputs.get("attributes") or {}).items()]
        user = self.backend.admin_create_user(pool, username, inputs.get("messageAction"),
                                              inputs.get("temporaryPassword"), attributes)
        if inputs.get("password"):
            self.backend.admin_set_user_password(pool, username, inputs["password"], True)
        if inputs.get("enabled") is False:
            self.backend.admin_disable_user(pool, username)
        sub = next((a["Value"] for a in user.attributes if a["Name"] == "sub"), "")
        return f"{pool}/{username}", {"sub": sub, "status": getattr(user.status, "value", "")}

    def add_user_to_group(self, inputs: Mapping[str, Any]) -> tuple[str, dict]:
        self.backend.admin_add_user_to_group(inputs["userPoolId"], inputs["groupName"],
                                             inputs["username"])
        return f"{inputs['userPoolId']}/{inputs['groupName']}/{inputs['username']}", {}

    # -- what the OAuth endpoints ask of the user store --

    def issuer_of(self, pool_id: str) -> str:
        """The ``iss`` of the pool's tokens, as moto (and Cognito) writes it."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{pool_id}"

    def app_client(self, pool_id: str, client_id: object) -> AppClient | None:
        """The pool's app client ``client_id``, or ``None``."""
        pool = self.backend.user_pools.get(pool_id)
        client = pool.clients.get(client_id) if pool is not None and isinstance(client_id, str) \
            else None
        if client is None:
            return None
        config = dict(client.extended_config)
        return AppClient(
            id=client.id, pool_id=pool_id,
            secret=client.secret if client.generate_secret else None,
            oauth=bool(config.get("AllowedOAuthFlowsUserPoolClient")),
            flows=frozenset(config.get("AllowedOAuthFlows") or ()),
            scopes=tuple(config.get("AllowedOAuthScopes") or ()),
            callback_urls=tuple(config.get("CallbackURLs") or ()),
            logout_urls=tuple(config.get("LogoutURLs") or ()),
            revocation=config.get("EnableTokenRevocation", True) is not False,
            prevent_user_existence_errors=config.get("PreventUserExistenceErrors") == "ENABLED",
            read_attributes=tuple(config.get("ReadAttributes") or ()), config=config)

    def check_password(self, pool_id: str, client: AppClient, username: str,
                       password: str) -> str:
        """The username the user signs in as, or ``SignInRefused`` with the hosted UI's message
        ("Incorrect username or password." also for an unknown user when the client prevents
        user existence errors, as Cognito does)."""
        user = self.backend.user_pools[pool_id]._get_user(username) if username else None
        if user is None:
            raise SignInRefused("Incorrect username or password."
                                if client.prevent_user_existence_errors
                                else "User does not exist.")
        if not hmac.compare_digest((user.password or "").encode(), password.encode()):
            raise SignInRefused("Incorrect username or password.")
        if not user.enabled:
            raise SignInRefused("User is disabled.")
        status = getattr(user.status, "value", str(user.status))
        if status == "RESET_REQUIRED":
            raise SignInRefused("Password reset required for the user")
        if status not in ("CONFIRMED", "EXTERNAL_PROVIDER"):
            # FORCE_CHANGE_PASSWORD and UNCONFIRMED need pages the sandbox does not serve.
            raise SignInRefused(f"User cannot sign in here: status {status}")
        return user.username

    def user_can_sign_in(self, pool_id: str, username: str) -> bool:
        """Whether a remembered hosted-UI session still signs ``username`` in (enabled, not
        deleted)."""
        user = self.backend.user_pools[pool_id]._get_user(username)
        return user is not None and user.enabled

    def issue(self, pool_id: str, client_id: str, username: str,
              context: moto_hook.Context) -> Tokens:
        """ID, access and refresh tokens for a hosted-UI sign-in, created by moto as its own
        flows create them (so the trigger runs once, with ``context``). Raises
        ``moto_hook.TriggerFailed`` when the trigger fails the sign-in."""
        pool = self.backend.user_pools[pool_id]
        with self._tokens, moto_hook.issuing(context), _trigger_failure():
            refresh_token, origin = pool.create_refresh_token(client_id, username)
            id_token, _ = pool.create_id_token(client_id, username, origin)
            access_token, expires_in = pool.create_access_token(client_id, username, origin)
        return Tokens(access_token, id_token, refresh_token, expires_in)

    def issue_client_token(self, pool_id: str, client: AppClient, scopes: list[str]) -> Tokens:
        """An access token for the client credentials grant, as Cognito issues one: ``sub`` and
        ``client_id`` the client's id, the ``scope`` granted, ``token_use: access``, no ``aud``,
        signed with the pool's key (moto's, as its other tokens). A ``V3_0`` trigger runs
        first (``machine_changes``); it may change claims and scopes. Raises
        ``moto_hook.TriggerFailed`` when it fails."""
        from joserfc import jwt as jose  # moto's JOSE library, loaded with moto

        pool = self.backend.user_pools[pool_id]
        lifetime = token_lifetime(client.config, "access") or DEFAULT_LIFETIME
        now = int(time.time())
        claims = {"sub": client.id, "token_use": "access", "scope": " ".join(scopes),
                  "auth_time": now, "iss": self.issuer_of(pool_id), "exp": now + lifetime,
                  "iat": now, "version": 2, "jti": str(uuid.uuid4()), "client_id": client.id}
        changes = self.issuer.machine_changes(
            dict(pool.extended_config.get("LambdaConfig") or {}), region=self.region,
            pool_id=pool_id, pool_arn=pool.arn, account=pool.account_id, client_id=client.id,
            scopes=scopes)
        if changes is not None:
            claims = trigger.apply_changes(changes, "access", claims)
        token = jose.encode({"kid": pool.json_web_key.kid, "alg": "RS256"}, claims,
                            pool.json_web_key)
        return Tokens(token, "", None, lifetime)

    def refresh(self, pool_id: str, refresh_token: str, context: moto_hook.Context) -> Tokens:
        """New ID and access tokens from ``refresh_token`` (the trigger runs with ``context``)."""
        pool = self.backend.user_pools[pool_id]
        with self._tokens, moto_hook.issuing(context), _trigger_failure():
            access_token, id_token, expires_in = pool.create_tokens_from_refresh_token(
                refresh_token)
        return Tokens(access_token, id_token, None, expires_in)

    def refresh_owner(self, pool_id: str, refresh_token: object) -> tuple[str, str] | None:
        """(client id, username) of a live refresh token of the pool, or ``None``."""
        pool = self.backend.user_pools.get(pool_id)
        found = pool.refresh_tokens.get(refresh_token) if pool is not None and isinstance(
            refresh_token, str) else None
        return (found[0], found[1]) if found else None

    def revoke(self, pool_id: str, refresh_token: str) -> None:
        """Revoke a refresh token and every access token issued from it (their ``origin_jti``),
        as ``/oauth2/revoke`` does."""
        pool = self.backend.user_pools[pool_id]
        with self._tokens:
            found = pool.refresh_tokens.get(refresh_token)
            if not found:
                return
            pool.refresh_tokens[refresh_token] = None  # moto's mark of a revoked token
            origin = found[2]
            for token in list(pool.access_tokens):
                if _unverified(token).get("origin_jti") == origin:
                    pool.access_tokens.pop(token, None)

    def access_token_user(self, pool_id: str, access_token: str) -> tuple[dict, dict] | None:
        """(claims, user attributes) of a live access token of the pool, or ``None``: unknown,
        revoked, expired, or its user disabled or deleted."""
        pool = self.backend.user_pools[pool_id]
        with self._tokens:
            known = pool.access_tokens.get(access_token)
        if known is None:
            return None
        claims = _unverified(access_token)
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= time.time():
            return None
        user = pool._get_user(known[1])
        if user is None or not user.enabled:
            return None
        return claims, {a["Name"]: a["Value"] for a in user.attributes}


def _unverified(token: str) -> dict:
    """The claims of a token moto issued (kept in its own maps: already trusted)."""
    try:
        return jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}


class CognitoApp:
    """ASGI: moto's Cognito API, with each local pool's ``/<poolId>/.well-known/openid-
    configuration`` answered in front of it (moto's lists no OAuth endpoints). The discovery
    document and the keys are sent with ``Access-Control-Allow-Origin: *``, as Cognito sends
    them, so a browser app can discover the pool."""

    def __init__(self, moto, discovery):
        self.moto = moto
        self.discovery = discovery

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        pool_id, _, rest = path.lstrip("/").partition("/")
        if f"/{rest}" == cognito_urls.DISCOVERY_PATH and scope["method"] in ("GET", "HEAD"):
            document = self.discovery(pool_id)
            if document is not None:
                body = json.dumps(document).encode("utf-8")
                await send({"type": "http.response.start", "status": 200, "headers": [
                    (b"content-type", b"application/json;charset=UTF-8"),
                    (b"access-control-allow-origin", b"*"),
                    (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body",
                            "body": b"" if scope["method"] == "HEAD" else body})
                return
        if f"/{rest}" == cognito_urls.JWKS_PATH:
            async def send_with_cors(message):
                if message["type"] == "http.response.start":  # one ACAO, Cognito's: *
                    message = {**message, "headers": [
                        *((k, v) for k, v in message.get("headers", [])
                          if k.lower() != b"access-control-allow-origin"),
                        (b"access-control-allow-origin", b"*")]}
                await send(message)
            return await self.moto(scope, receive, send_with_cors)
        await self.moto(scope, receive, send)


@contextlib.contextmanager
def _trigger_failure():
    """moto's error for a failed trigger (``UserLambdaValidationException``), as the hook's
    ``TriggerFailed`` with Cognito's message."""
    from moto.core.exceptions import JsonRESTError

    try:
        yield
    except JsonRESTError as error:
        if error.error_type == "UserLambdaValidationException":
            raise moto_hook.TriggerFailed(error.message) from None
        raise
