"""Local Cognito: moto in server mode on 127.0.0.1, in this process, holding the pools, app
clients, domains, groups, users and memberships the program registers, created through the
Cognito API (boto3) from the recorded ``aws:cognito/*`` inputs.

Sign-in is moto's (``InitiateAuth`` with ``USER_PASSWORD_AUTH``, ``REFRESH_TOKEN_AUTH``, ...);
boto3 and the AWS CLI work against ``endpoint``. Every token moto issues for a pool created here
first runs the pool's Pre Token Generation trigger (``TriggerIssuer``, through the one hook in
``sandbox/moto_hook.py``) in the local Lambda.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import cognito_trigger as trigger
from . import moto_hook
from .arns import function_ref
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
        return _Issuance(request.client_config, [g.name for g in groups], changes)

    def _run(self, config: Mapping[str, Any], request: moto_hook.TokenRequest,
             groups: list[moto_hook.Group]) -> trigger.TokenChanges:
        version = trigger.event_version(config.get("LambdaVersion", "V1_0"))
        roles = [g.role_arn for g in groups if g.role_arn]
        event = trigger.pre_token_event(
            version=version, trigger_source=trigger.REFRESH if request.refresh
            else trigger.AUTHENTICATION, region=request.region,
            user_pool_id=request.user_pool_id, username=request.username,
            client_id=request.client_id, user_attributes=request.user_attributes,
            groups=[g.name for g in groups], iam_roles=roles,
            preferred_role=roles[0] if roles else None,
            scopes=[BASE_SCOPE])
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

    def claims(self, token_use: str, claims: dict) -> dict:
        if "cognito:groups" in claims:  # in precedence order, as the trigger saw them
            claims = {**claims, "cognito:groups": list(self.groups)}
        if self.changes is None:
            return claims
        return trigger.apply_changes(self.changes, token_use, claims)

    def expires_in(self, token_use: str) -> int | None:
        return token_lifetime(self.client_config, token_use)


class LocalCognito:
    """moto's Cognito on 127.0.0.1, started on first use, and what this sandbox created in it."""

    def __init__(self, region: str, lambdas: LocalLambda):
        self.region = region
        self.lambdas = lambdas
        self.issuer = TriggerIssuer(lambdas)
        self._server = None
        self._client = None
        self.pools: list[str] = []
        self.endpoint: str | None = None

    @property
    def client(self):
        """An admin client for moto (moto takes any credentials)."""
        if self._client is None:
            self._start()
        return self._client

    def _start(self) -> None:
        import boto3
        from moto.server import ThreadedMotoServer

        moto_hook.install()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log on the terminal
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        self._server = server
        host, port = server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self._client = boto3.client(
            "cognito-idp", region_name=self.region, endpoint_url=self.endpoint,
            aws_access_key_id="sandbox", aws_secret_access_key="sandbox")  # noqa: S106

    def stop(self) -> None:
        """Forget the pools created here and stop moto (closing its socket)."""
        for pool_id in self.pools:
            moto_hook.release(pool_id)
            with contextlib.suppress(Exception):  # noqa: BLE001 -- best effort on the way out
                self._client.delete_user_pool(UserPoolId=pool_id)
        self.pools.clear()
        if self._server is not None:
            server, self._server = self._server, None
            host, port = server.get_host_and_port()
            # stop() waits for the server loop to look at its stop flag, which it does every
            # 0.5 s or when a connection arrives: knock until it has looked.
            stopping = threading.Thread(target=server.stop, name="moto-stop")
            stopping.start()
            while stopping.is_alive():
                with contextlib.suppress(OSError):
                    socket.create_connection((host, port), timeout=0.2).close()
                stopping.join(0.02)
            inner = getattr(server, "_server", None)  # stop() leaves the socket open
            if inner is not None:
                inner.server_close()

    # -- resources, from the program's recorded inputs --

    def create_user_pool(self, name: str, inputs: Mapping[str, Any]) -> tuple[str, dict]:
        params = _pick(inputs, _POOL)
        if inputs.get("passwordPolicy"):
            params["Policies"] = {"PasswordPolicy": _api_value(inputs["passwordPolicy"])}
        if inputs.get("tags"):
            params["UserPoolTags"] = dict(inputs["tags"])
        pool = self.client.create_user_pool(PoolName=name, **params)["UserPool"]
        self.pools.append(pool["Id"])
        moto_hook.adopt(pool["Id"], self.issuer)
        return pool["Id"], {"arn": pool["Arn"], "name": name,
                            "endpoint": f"cognito-idp.{self.region}.amazonaws.com/{pool['Id']}",
                            "creationDate": pool["CreationDate"].isoformat(),
                            "estimatedNumberOfUsers": 0}

    def create_user_pool_client(self, name: str, inputs: Mapping[str, Any]) -> tuple[str, dict]:
        client = self.client.create_user_pool_client(
            UserPoolId=inputs["userPoolId"], ClientName=name, **_pick(inputs, _CLIENT)
        )["UserPoolClient"]
        return client["ClientId"], {"name": name, "clientSecret": client.get("ClientSecret", "")}

    def create_user_pool_domain(self, inputs: Mapping[str, Any]) -> tuple[str, dict]:
        self.client.create_user_pool_domain(Domain=inputs["domain"],
                                            UserPoolId=inputs["userPoolId"])
        return inputs["domain"], {"cloudfrontDistribution": "",
                                  "cloudfrontDistributionArn": "", "version": ""}

    def create_group(self, inputs: Mapping[str, Any]) -> tuple[str, dict]:
        params = _pick(inputs, {"description": "Description", "precedence": "Precedence",
                                "roleArn": "RoleArn"})
        self.client.create_group(UserPoolId=inputs["userPoolId"], GroupName=inputs["name"],
                                 **params)
        return f"{inputs['userPoolId']}/{inputs['name']}", {}

    def create_user(self, inputs: Mapping[str, Any]) -> tuple[str, dict]:
        """``AdminCreateUser``; with ``password``, ``AdminSetUserPassword`` as permanent (what
        the AWS provider does), so the user can sign in at once."""
        pool, username = inputs["userPoolId"], inputs["username"]
        params = _pick(inputs, {"messageAction": "MessageAction",
                                "temporaryPassword": "TemporaryPassword",
                                "desiredDeliveryMediums": "DesiredDeliveryMediums",
                                "forceAliasCreation": "ForceAliasCreation"})
        attributes = [{"Name": k, "Value": str(v)} for k, v in (inputs.get("attributes") or {}).items()]
        if attributes:
            params["UserAttributes"] = attributes
        user = self.client.admin_create_user(UserPoolId=pool, Username=username, **params)["User"]
        if inputs.get("password"):
            self.client.admin_set_user_password(UserPoolId=pool, Username=username,
                                                Password=inputs["password"], Permanent=True)
        if inputs.get("enabled") is False:
            self.client.admin_disable_user(UserPoolId=pool, Username=username)
        sub = next((a["Value"] for a in user.get("Attributes", []) if a["Name"] == "sub"), "")
        return f"{pool}/{username}", {"sub": sub, "status": user.get("UserStatus", "")}

    def add_user_to_group(self, inputs: Mapping[str, Any]) -> tuple[str, dict]:
        self.client.admin_add_user_to_group(UserPoolId=inputs["userPoolId"],
                                            Username=inputs["username"],
                                            GroupName=inputs["groupName"])
        return f"{inputs['userPoolId']}/{inputs['groupName']}/{inputs['username']}", {}
