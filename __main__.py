"""jwt-scoped-api: stack config -> the components' args -> components -> stack outputs.

The only place that reads config (``program.config`` judges it). The components come from the
``jwt_scoped`` package, installed (``requirements.txt``) as any other program would install it.
"""

from pathlib import Path

import pulumi
from pulumi.runtime import config as runtime_config

from jwt_scoped import (
    PythonFunction,
    PythonFunctionArgs,
    ScopedHttpApi,
    ScopedHttpApiArgs,
    ScopedIdentityPool,
)
from jwt_scoped.route_keys import describe_routes
from program import outputs
from program.config import (
    NAMESPACE,
    ConfigError,
    available_functions,
    decode_config_value,
    parse_stack_config,
)

FUNCTIONS_DIR = Path(__file__).resolve().parent / "functions"


def stack_config() -> dict:
    """Every key of the stack's config, read from the whole config map so that a misspelt key
    or namespace is reported, not ignored. This project's values are decoded; other namespaces'
    values are not ours to read (only their keys are judged)."""
    names = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    config = pulumi.Config(NAMESPACE)
    prefix = f"{NAMESPACE}:"
    return {name: decode_config_value(config.get(name[len(prefix):]))
            if name.startswith(prefix) else None for name in sorted(names)}


try:
    stack = parse_stack_config(stack_config(), functions=available_functions(FUNCTIONS_DIR))
except ConfigError as error:
    raise pulumi.RunError(str(error)) from None

identity = ScopedIdentityPool("identity", stack.identity)

functions = {name: PythonFunction(name.replace("_", "-"), PythonFunctionArgs(
    source_dir=str(FUNCTIONS_DIR / name),
    description=describe_routes([r.route_key for r in stack.routes if r.function == name]),
    log_retention_days=stack.identity.log_retention_days)) for name in stack.functions}

api = ScopedHttpApi("api", ScopedHttpApiArgs(
    issuer=identity.issuer_url,
    # Every client, people's and machines': Cognito ID tokens carry the client id in `aud`,
    # access tokens in `client_id`, which the JWT authorizer checks when `aud` is absent.
    audiences=identity.audiences,
    functions={name: fn.arn for name, fn in functions.items()},
    # group -> its scopes, <group>-<clientId> for each app client: routes name the groups they
    # admit (and the machine scopes, as written).
    scopes=identity.group_scopes,
    **stack.api,  # the routes, the stage and its settings, as the stack config sets them
))

exports = {
    outputs.API_URL: api.invoke_url,
    outputs.ROUTE_URLS: api.route_urls,
    outputs.USER_POOL_ID: identity.user_pool_id,
    outputs.APP_CLIENT_ID: identity.client_id,
    outputs.APP_CLIENT_IDS: identity.client_ids,
    outputs.MACHINE_CLIENT_IDS: identity.machine_client_ids,
    outputs.MACHINE_CLIENT_SECRETS: identity.machine_client_secrets,
    outputs.ISSUER_URL: identity.issuer_url,
    outputs.HOSTED_UI_URL: identity.hosted_ui_url,
    outputs.TOKEN_USE: str(stack.identity.token_use),
    outputs.SCOPES: identity.scopes,
    outputs.TEST_USER_PASSWORDS: identity.user_passwords,
}
for name in outputs.ALL:
    pulumi.export(name, exports[name])
