"""jwt-scoped-api: stack config -> validated settings -> components -> stack outputs.

The only place that reads config. Everything it decides is in ``components/`` as pure,
tested functions; this file wires them together.
"""

from pathlib import Path

import pulumi
from pulumi.runtime import config as runtime_config

from components import (
    ApiRoute,
    PythonFunction,
    PythonFunctionArgs,
    ScopedHttpApi,
    ScopedHttpApiArgs,
    ScopedIdentityPool,
    ScopedIdentityPoolArgs,
)
from components.modes import RouteAccess
from components.route_keys import describe_routes
from components.settings import (
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
    settings = parse_stack_config(stack_config(), functions=available_functions(FUNCTIONS_DIR))
except ConfigError as error:
    raise pulumi.RunError(str(error)) from None

identity = ScopedIdentityPool("identity", ScopedIdentityPoolArgs(
    groups=settings.groups,
    users=settings.users,
    token_use=settings.token_use,
    callback_urls=settings.callback_urls,
    domain_prefix=settings.domain_prefix,
    id_token_validity_minutes=settings.id_token_validity_minutes,
    access_token_validity_minutes=settings.access_token_validity_minutes,
    refresh_token_validity_days=settings.refresh_token_validity_days,
    log_retention_days=settings.log_retention_days,
    protect=settings.protect_user_pool,
))

functions = {name: PythonFunction(name.replace("_", "-"), PythonFunctionArgs(
    source_dir=str(FUNCTIONS_DIR / name),
    description=describe_routes([r.route for r in settings.routes if r.function == name]),
    log_retention_days=settings.log_retention_days)) for name in settings.functions}

api = ScopedHttpApi("api", ScopedHttpApiArgs(
    issuer=identity.issuer_url,
    # Cognito ID tokens carry the client id in `aud`; access tokens in `client_id`, which the
    # JWT authorizer checks against the audiences when `aud` is absent.
    audiences=[identity.client_id],
    functions={name: fn.function for name, fn in functions.items()},
    routes=[ApiRoute(r.route, r.function, [identity.scope_for(g) for g in r.groups],
                     public=r.access is RouteAccess.PUBLIC) for r in settings.routes],
    stage_name=settings.stage_name,
    throttling_burst_limit=settings.throttling_burst_limit,
    throttling_rate_limit=settings.throttling_rate_limit,
    cors_origins=settings.cors_origins,
    log_retention_days=settings.log_retention_days,
))

pulumi.export("api_url", api.invoke_url)
pulumi.export("route_urls", api.route_urls)
pulumi.export("user_pool_id", identity.user_pool_id)
pulumi.export("app_client_id", identity.client_id)
pulumi.export("issuer_url", identity.issuer_url)
pulumi.export("hosted_ui_url", identity.hosted_ui_url)
pulumi.export("token_use", settings.token_use.value)
pulumi.export("scopes", {g.name: identity.scope_for(g.name) for g in settings.groups})
pulumi.export("test_user_passwords", identity.user_passwords)
