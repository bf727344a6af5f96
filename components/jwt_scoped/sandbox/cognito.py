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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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


class LocalCognito:
    """moto's Cognito, and what this sandbox created in it; ``serve`` puts its API on the edge."""

    def __init__(self, region: str, lambdas: LocalLambda):
        self.region = region
        self.lambdas = lambdas
        self.issuer = TriggerIssuer(lambdas)
        self._backend = None
        self._client = None
        self.pools: list[str] = []
        self.endpoint: str | None = None

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
        runs it, through a2wsgi (the WSGI adapter uvicorn itself recommends)."""
        from a2wsgi import WSGIMiddleware
        from moto.server import DomainDispatcherApplication, create_backend_app

        edge.serve(WSGIMiddleware(DomainDispatcherApplication(create_backend_app)), sock)
        self.endpoint = url_of(sock)

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
        return inputs["domain"], {"cloudfrontDistribution": "",
                                  "cloudfrontDistributionArn": "", "version": ""}

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
