"""ScopedHttpApi: an HTTP API whose routes are public, or demand a valid token of one shared JWT
authorizer, or demand one of their scopes too.

It knows nothing of Cognito: any OIDC issuer, audiences and per-route scopes will do."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from . import builtin_functions, rules
from .cors import cors_methods, preflight_problems, preflight_route_keys
from .python_function import PythonFunction, PythonFunctionArgs
from .route_keys import parse_route_key, route_key_problem
from .specs import duplicates

IDENTITY_SOURCE = "$request.header.Authorization"

# One JSON object per request. `authorizerError` says why a JWT was refused (401s); the caller is
# logged by its opaque `sub`, never by name or e-mail. Source: API Gateway developer guide,
# "Customize HTTP API access logs".
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "sub": "$context.authorizer.claims.sub",
    "authorizerError": "$context.authorizer.error",
    "integrationError": "$context.integrationErrorMessage",
}, separators=(",", ":"))


def route_url(invoke_url: str, route_key: str) -> str:
    """Where a route answers: the stage URL plus the route's path (``{params}`` left as is)."""
    route = parse_route_key(route_key)
    return invoke_url.rstrip("/") + (route.path or "/")


def route_resource_name(component: str, route_key: str) -> str:
    """``api-GET/AdminUser``: readable in ``pulumi preview``, one name per route key (the method
    is followed directly by the path's leading slash), and free of spaces."""
    return f"{component}-{route_key.replace(' ', '', 1)}"


# Access logs go to a group under /aws/vendedlogs/: CloudWatch Logs lets log delivery write
# there by prefix, while any other name is added to the account's shared CloudWatch Logs resource
# policy, which is capped at 5,120 characters and never pruned, until enabling logging fails
# (CloudWatch Logs user guide, "Enabling logging from AWS services", vended logs).
ACCESS_LOG_PREFIX = "/aws/vendedlogs/apigateway/"
# The function key of the CORS preflight answer among the API's integrations: a hyphen, which a
# function folder name cannot hold, so it cannot clash with a route function of the program.
PREFLIGHT_FUNCTION_KEY = "cors-preflight"


@dataclass
class ApiRoute:
    route_key: str
    """``METHOD /path`` or ``$default``."""
    function: str
    """Key in ``ScopedHttpApiArgs.functions`` of the Lambda that serves the route."""
    scopes: Sequence[pulumi.Input[str]] = ()
    """The token must hold at least one of these (at most 10) in its ``scope`` claim. None:
    any valid token of the authorizer's issuer and audiences will do."""
    public: bool = False
    """No authorizer at all: anyone may call the route, with or without a token. A public route
    takes no scopes."""

    @property
    def demands_token(self) -> bool:
        return not self.public


@dataclass
class ScopedHttpApiArgs:
    issuer: pulumi.Input[str]
    """JWT issuer URL; the authorizer fetches its keys from ``<issuer>/.well-known/jwks.json``."""
    audiences: Sequence[pulumi.Input[str]]
    """Accepted ``aud`` (or, when absent, ``client_id``) values: 1 to 50."""
    functions: Mapping[str, aws.lambda_.Function]
    """Route handlers by key; each gets one integration and one invoke permission."""
    routes: Sequence[ApiRoute]
    """The routes; every function must serve at least one."""
    stage_name: str = rules.DEFAULT_STAGE
    """Stage to auto-deploy; ``$default`` serves at the API's root URL."""
    throttling_burst_limit: int = 100
    """Default route burst limit (requests)."""
    throttling_rate_limit: float = 50.0
    """Default route steady-state limit (requests per second)."""
    cors_origins: Sequence[str] = ()
    """Browser origins allowed by CORS; empty: no CORS configuration."""
    log_retention_days: int = 30
    """Retention of the access logs."""
    tags: dict = field(default_factory=dict)
    """Tags for the API and its stage."""


def api_args_problems(args: ScopedHttpApiArgs) -> list[str]:
    problems = [p for r in args.routes if (p := route_key_problem(r.route_key))]
    problems += [f"duplicate route {d!r}" for d in duplicates(r.route_key for r in args.routes)]
    if not args.routes:
        problems.append("routes: at least one route is needed")
    if len(args.routes) > rules.MAX_ROUTES_PER_API:
        problems.append(f"routes: {len(args.routes)} > {rules.MAX_ROUTES_PER_API} per API")
    for r in args.routes:
        if r.public and r.scopes:
            problems.append(f"route {r.route_key!r}: a public route takes no scopes (it has no "
                            "authorizer to check them)")
        if len(r.scopes) > rules.MAX_SCOPES_PER_ROUTE:
            problems.append(f"route {r.route_key!r}: {len(r.scopes)} scopes; API Gateway takes "
                            f"at most {rules.MAX_SCOPES_PER_ROUTE} per route")
        if r.function not in args.functions:
            problems.append(f"route {r.route_key!r}: unknown function {r.function!r}")
    unused = set(args.functions) - {r.function for r in args.routes}
    problems += [f"function {f!r} serves no route" for f in sorted(unused)]
    if PREFLIGHT_FUNCTION_KEY in args.functions:
        problems.append(f"function key {PREFLIGHT_FUNCTION_KEY!r} is reserved for the CORS "
                        "preflight answer")
    if not 1 <= len(args.audiences) <= rules.MAX_AUDIENCES:
        problems.append(f"audiences: {len(args.audiences)}; a JWT authorizer takes 1 to "
                        f"{rules.MAX_AUDIENCES}")
    problems += filter(None, [rules.stage_name_problem(args.stage_name),
                              rules.log_retention_problem(args.log_retention_days),
                              rules.range_problem("throttling_burst_limit",
                                                  args.throttling_burst_limit,
                                                  *rules.THROTTLING_BURST_RANGE),
                              rules.range_problem("throttling_rate_limit",
                                                  args.throttling_rate_limit,
                                                  *rules.THROTTLING_RATE_RANGE)])
    problems += [p for o in args.cors_origins if (p := rules.cors_origin_problem(o))]
    if args.cors_origins and not problems:
        problems += preflight_problems(_protected(args.routes)).values()
    return problems


def _protected(routes: Sequence[ApiRoute]) -> dict[str, bool]:
    return {r.route_key: r.demands_token for r in routes}


# A route anyone may call: no authorizer ("authorizationType": NONE, API Gateway's default).
_NO_AUTHORIZATION = {"authorization_type": "NONE"}


class ScopedHttpApi(pulumi.ComponentResource):
    """HTTP API, one JWT authorizer, a route per key (public, any valid token, or one of its
    scopes), one Lambda proxy integration and invoke permission per function, an auto-deployed,
    throttled, logged stage, and with CORS the public OPTIONS routes that keep preflights away
    from the authorizer."""

    def __init__(self, name: str, args: ScopedHttpApiArgs,
                 opts: pulumi.ResourceOptions | None = None):
        problems = api_args_problems(args)
        if problems:
            raise ValueError(f"ScopedHttpApi {name!r}: " + "; ".join(problems))
        super().__init__("jwt-scoped-api:index:ScopedHttpApi", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        cors = None
        if args.cors_origins:
            cors = {"allow_origins": list(args.cors_origins),
                    "allow_methods": cors_methods([r.route_key for r in args.routes]),
                    "allow_headers": ["authorization", "content-type"], "max_age": 3600}
        self.api = aws.apigatewayv2.Api(
            f"{name}-api", protocol_type="HTTP", cors_configuration=cors,
            tags=args.tags or None, opts=child)

        self.authorizer = aws.apigatewayv2.Authorizer(
            f"{name}-jwt", api_id=self.api.id, authorizer_type="JWT", name=f"{name}-jwt",
            identity_sources=[IDENTITY_SOURCE],
            jwt_configuration={"issuer": args.issuer, "audiences": list(args.audiences)},
            opts=child)

        functions = {key: (fn.name, fn.invoke_arn) for key, fn in args.functions.items()}
        routes = [(r.route_key, r.function, r.public, list(r.scopes)) for r in args.routes]
        preflights = preflight_route_keys(_protected(args.routes)) if args.cors_origins else []
        self.preflight_function = None
        if preflights:
            self.preflight_function = PythonFunction(
                f"{name}-cors-preflight", PythonFunctionArgs(
                    source_dir=builtin_functions.source_dir(builtin_functions.CORS_PREFLIGHT),
                    description=f"CORS preflights of {', '.join(preflights)}",
                    log_retention_days=args.log_retention_days), opts=child)
            functions[PREFLIGHT_FUNCTION_KEY] = (self.preflight_function.function_name,
                                                 self.preflight_function.invoke_arn)
            routes += [(key, PREFLIGHT_FUNCTION_KEY, True, []) for key in preflights]

        integrations = {}
        for key in dict.fromkeys(function for _, function, _, _ in routes):
            function_name, invoke_arn = functions[key]
            integrations[key] = aws.apigatewayv2.Integration(
                f"{name}-{key}-integration", api_id=self.api.id, integration_type="AWS_PROXY",
                integration_method="POST", integration_uri=invoke_arn,
                payload_format_version="2.0",  # the default, "1.0", is the REST-style event
                opts=child)
            # Any stage, method and route of this API, and of no other.
            aws.lambda_.Permission(
                f"{name}-{key}-invoke", action="lambda:InvokeFunction", function=function_name,
                principal="apigateway.amazonaws.com",
                source_arn=self.api.execution_arn.apply(lambda arn: f"{arn}/*/*"), opts=child)

        self.routes = {key: aws.apigatewayv2.Route(
            route_resource_name(name, key), api_id=self.api.id, route_key=key,
            target=integrations[function].id.apply(lambda i: f"integrations/{i}"),
            **(_NO_AUTHORIZATION if public else {
                "authorization_type": "JWT", "authorizer_id": self.authorizer.id,
                "authorization_scopes": scopes or None}),
            opts=child) for key, function, public, scopes in routes}

        self.access_logs = aws.cloudwatch.LogGroup(
            f"{name}-access-logs", name_prefix=f"{ACCESS_LOG_PREFIX}{name}-",
            retention_in_days=args.log_retention_days, opts=child)
        self.stage = aws.apigatewayv2.Stage(
            f"{name}-stage", api_id=self.api.id, name=args.stage_name,
            auto_deploy=True,  # defaults to false: routes would never reach a deployment
            default_route_settings={"throttling_burst_limit": args.throttling_burst_limit,
                                    "throttling_rate_limit": args.throttling_rate_limit},
            access_log_settings={"destination_arn": self.access_logs.arn,
                                 "format": ACCESS_LOG_FORMAT},
            tags=args.tags or None,
            # a stage deploys whatever routes exist: create it after them
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(self.routes.values())))

        self.api_id = self.api.id
        self.api_endpoint = self.api.api_endpoint
        self.invoke_url = self.stage.invoke_url
        keys = [r.route_key for r in args.routes]  # the routes asked for, not the preflights
        self.route_urls = self.stage.invoke_url.apply(
            lambda url: {key: route_url(url, key) for key in keys})
        self.register_outputs({"api_id": self.api_id, "api_endpoint": self.api_endpoint,
                               "invoke_url": self.invoke_url, "route_urls": self.route_urls})
