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
            "aws:cognito/userPool:UserPool": lambda n, i: self.cognito.create_user_pool(
                i.get("name") or _autoname(n), i),
            "aws:cognito/userPoolClient:UserPoolClient":
                lambda n, i: self.cognito.create_user_pool_client(i.get("name") or _autoname(n), i),
            "aws:cognito/userPoolDomain:UserPoolDomain":
                lambda n, i: self.cognito.create_user_pool_domain(i),
            "aws:cognito/userGroup:UserGroup": lambda n, i: self.cognito.create_group(i),
            "aws:cognito/user:User": lambda n, i: self.cognito.create_user(i),
            "aws:cognito/userInGroup:UserInGroup": lambda n, i: self.cognito.add_user_to_group(i),
            "aws:lambda/function:Function": self._function,
            "aws:lambda/permission:Permission": self._permission,
            "aws:apigatewayv2/api:Api": self._api,
            "aws:apigatewayv2/authorizer:Authorizer":
                lambda n, i: (self.apis.create_authorizer(i).id, {}),
            "aws:apigatewayv2/integration:Integration":
                lambda n, i: (self.apis.create_integration(i).id, {}),
            "aws:apigatewayv2/route:Route": lambda n, i: (self.apis.create_route(i).id, {}),
            "aws:apigatewayv2/stage:Stage": self._stage,
            "random:index/randomPassword:RandomPassword":
                lambda n, i: (n, {"result": random_text(i)}),
            "random:index/randomString:RandomString": lambda n, i: (n, {"result": random_text(i)}),
        }

    def create(self, typ: str, name: str, inputs: dict) -> tuple[str, dict] | None:
        create = self._create.get(typ)
        if create is None:
            return None
        rid, computed = create(name, reveal(inputs))
        return rid, {**inputs, **computed}

    def _function(self, name: str, inputs: dict) -> tuple[str, dict]:
        spec = self.lambdas.create_function(name, inputs)
        invoke = (f"arn:aws:apigateway:{self.region}:lambda:path/2015-03-31/functions/{spec.arn}"
                  "/invocations")
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
