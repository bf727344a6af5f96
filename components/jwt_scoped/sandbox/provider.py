"""The sandbox's provider: what Pulumi's mocked ``new_resource`` asks for, created in the local
stand-ins, answered with their real local ids and outputs.

- ``aws:cognito/*``: in moto (``sandbox/cognito.py``).
- ``aws:lambda/function:Function`` and ``aws:lambda/permission:Permission``: in the local Lambda
  (``sandbox/lambdas.py``).
- ``aws:apigatewayv2/*``: in the local API registry (``sandbox/apis.py``), served by the gateway.
- ``random:*``: generated here, honouring the resource's inputs.

Everything else (IAM roles and policies, log groups, components) gets the recording's
AWS-shaped fakes: nothing local depends on them.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from typing import Any

from jwt_scoped import aws_types as T
from jwt_scoped.recording import reveal

from .apis import LocalApis
from .cognito import LocalCognito
from .lambdas import LocalLambda

# pulumi_random's default special characters (RandomPassword/RandomString ``override_special``).
RANDOM_SPECIALS = "!@#$%&*()-_=+[]{}<>:?"


def random_text(inputs: dict[str, Any]) -> str:
    """A random string as ``pulumi_random`` makes one: ``length`` characters from the enabled
    classes (``lower``, ``upper``, ``numeric``, ``special``; all on by default), with at least
    ``min_*`` of each."""
    length = int(inputs.get("length", 16))
    classes = [("lower", string.ascii_lowercase, "minLower"),
               ("upper", string.ascii_uppercase, "minUpper"),
               ("numeric", string.digits, "minNumeric"),
               ("special", inputs.get("overrideSpecial") or RANDOM_SPECIALS, "minSpecial")]
    chosen: list[str] = []
    alphabet = ""
    for flag, chars, minimum in classes:
        if inputs.get(flag, True) is False:
            continue
        alphabet += chars
        chosen += [secrets.choice(chars) for _ in range(int(inputs.get(minimum) or 0))]
    if not alphabet:
        raise ValueError("random string: every character class is turned off")
    chosen += [secrets.choice(alphabet) for _ in range(max(0, length - len(chosen)))]
    secrets.SystemRandom().shuffle(chosen)
    return "".join(chosen)


class SandboxProvider:
    """Creates resources in the local stand-ins (see ``offline.recording.LocalProvider``)."""

    def __init__(self, region: str, account: str, lambdas: LocalLambda, cognito: LocalCognito,
                 apis: LocalApis, endpoint_for: Callable[[str], str]):
        self.region, self.account = region, account
        self.lambdas, self.cognito, self.apis = lambdas, cognito, apis
        self.endpoint_for = endpoint_for
        self._create = {
            T.USER_POOL: lambda n, i: self.cognito.create_user_pool(
                i.get("name") or _autoname(n), i),
            T.USER_POOL_CLIENT:
                lambda n, i: self.cognito.create_user_pool_client(i.get("name") or _autoname(n), i),
            T.USER_POOL_DOMAIN:
                lambda n, i: self.cognito.create_user_pool_domain(i),
            T.RESOURCE_SERVER: lambda n, i: self.cognito.create_resource_server(i),
            T.USER_GROUP: lambda n, i: self.cognito.create_group(i),
            T.USER: lambda n, i: self.cognito.create_user(i),
            T.USER_IN_GROUP: lambda n, i: self.cognito.add_user_to_group(i),
            T.FUNCTION: self._function,
            T.PERMISSION: self._permission,
            T.API: self._api,
            T.AUTHORIZER:
                lambda n, i: (self.apis.create_authorizer(i).id, {}),
            T.INTEGRATION:
                lambda n, i: (self.apis.create_integration(i).id, {}),
            T.ROUTE: lambda n, i: (self.apis.create_route(i).id, {}),
            T.STAGE: self._stage,
            T.RANDOM_PASSWORD:
                lambda n, i: (n, {"result": random_text(i)}),
            T.RANDOM_STRING: lambda n, i: (n, {"result": random_text(i)}),
        }

    def create(self, typ: str, name: str, inputs: dict) -> tuple[str, dict] | None:
        create = self._create.get(typ)
        if create is None:
            return None
        rid, computed = create(name, reveal(inputs))
        return rid, {**inputs, **computed}

    def _function(self, name: str, inputs: dict) -> tuple[str, dict]:
        spec = self.lambdas.create_function(name, inputs)
        invoke = T.lambda_invoke_arn(self.region, spec.arn)
        return spec.name, {"name": spec.name, "arn": spec.arn, "invokeArn": invoke,
                           "qualifiedArn": f"{spec.arn}:$LATEST",
                           "qualifiedInvokeArn": invoke.replace(spec.arn, f"{spec.arn}:$LATEST"),
                           "version": "$LATEST"}

    def _permission(self, name: str, inputs: dict) -> tuple[str, dict]:
        self.lambdas.add_permission(inputs)
        return inputs.get("statementId") or _autoname(name), {}

    def _api(self, name: str, inputs: dict) -> tuple[str, dict]:
        api = self.apis.create_api(name, inputs, self.endpoint_for)
        return api.id, {"apiEndpoint": api.endpoint, "executionArn": api.execution_arn,
                        "arn": f"arn:aws:apigateway:{self.region}::/apis/{api.id}"}

    def _stage(self, name: str, inputs: dict) -> tuple[str, dict]:
        stage = self.apis.create_stage(inputs)
        api = self.apis.apis[stage.api_id]
        return stage.name, {"invokeUrl": self.apis.invoke_url(api, stage.name),
                            "executionArn": f"{api.execution_arn}/{stage.name}",
                            "arn": f"arn:aws:apigateway:{self.region}::/apis/{api.id}/stages/"
                                   f"{stage.name}"}


def _autoname(name: str) -> str:
    """Pulumi's auto-name: the resource name and a random 7-character suffix."""
    return f"{name}-{secrets.token_hex(4)[:7]}"
