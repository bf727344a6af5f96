"""ScopedHttpApi: an HTTP API whose routes are public, or demand a valid token of one shared JWT
authorizer, or demand one of their scopes too.

It knows nothing of Cognito: any OIDC issuer, audiences and per-route scopes will do."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from . import rules as r
from .cors import cors_methods, preflight_problems, preflight_route_keys
from .model import Problem, from_inputs, is_unknown, require_valid, rules, shown
from .modes import (
    JWT_AUTHORIZATION,
    NO_AUTHORIZATION,
    RouteAccess,
    choice_problem,
    demands_token,
)
from .package import component_options, type_token
from .python_function import PythonFunction, PythonFunctionArgs, packaged_function
from .route_keys import parse_route_key, route_key_problem

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


# Access logs go to a group under /aws/vendedlogs/ (see rules.VENDED_LOGS_PREFIX).
ACCESS_LOG_PREFIX = f"{r.VENDED_LOGS_PREFIX}apigateway/"
# The function key of the CORS preflight answer among the API's integrations: a hyphen, which a
# function folder name cannot hold, so it cannot clash with a route function of the program.
PREFLIGHT_FUNCTION_KEY = "cors-preflight"


@dataclass(frozen=True, kw_only=True)
class ApiRoute:
    """A route: its key, the function that serves it, and who may call it."""

    route_key: str = field(metadata=rules(check=route_key_problem))
    """``METHOD /path`` (``{param}`` segments, a final greedy ``{proxy+}``) or ``$default``."""
    function: str
    """Key in ``functions`` of the Lambda function that serves the route."""
    access: RouteAccess | None = field(default=RouteAccess.GROUPS, metadata=rules(
        check=lambda v: choice_problem(RouteAccess, "access", v)))
    """Who may call it: ``groups`` (a token holding one of ``scopes``), ``signed-in`` (any valid
    token of the authorizer's issuer and audiences) or ``public`` (no authorizer: anyone)."""
    scopes: Sequence[pulumi.Input[str]] | None = field(default=(), metadata=rules(
        count=(0, r.MAX_SCOPES_PER_ROUTE), unique=(lambda name: name, "scope"),
        why=r.SCOPES_QUOTA))
    """Names in ``scopes`` of the scopes that admit a caller, any one will do: with
    ``ScopedIdentityPool``, the groups that may call it. With ``groups`` access it or
    ``machine_scopes`` is required (the quota is API Gateway's scopes per route, counting every
    scope the names stand for); refused with the others."""
    machine_scopes: Sequence[str] | None = field(default=(), metadata=rules(
        count=(0, r.MAX_SCOPES_PER_ROUTE), unique=(lambda s: s, "machine scope"),
        each=lambda s: None if isinstance(s, str) and s and " " not in s
        else f"scope must be one word, got {shown(s)}", why=r.SCOPES_QUOTA))
    """Scopes demanded as written, for callers with the client credentials grant: a resource
    server's ``<identifier>/<scope>`` (``orders/read``). A token holding one is admitted too."""

    def cross_problems(self) -> list[Problem]:
        """Scopes go with ``groups`` access, and only with it."""
        if self.access == RouteAccess.GROUPS and not self.scopes and not self.machine_scopes:
            return [Problem("scopes", "names no scope (group) that may call it; or give it access "
                                      "'public' (no token needed) or 'signed-in' (any valid "
                                      "token), or machine scopes")]
        if self.access in (RouteAccess.PUBLIC, RouteAccess.SIGNED_IN) and (
                self.scopes or self.machine_scopes):
            everyone = "everyone" if self.access == RouteAccess.PUBLIC else "every signed-in caller"
            which = "scopes" if self.scopes else "machine_scopes"
            return [Problem(which, f"a route with access {str(self.access)!r} admits "
                                   f"{everyone}: remove its scopes, or use access 'groups' to "
                                   "admit only them")]
        return []


def _route_key_of(route: ApiRoute) -> str | None:
    key = getattr(route, "route_key", None)
    return key if isinstance(key, str) else None


@dataclass(frozen=True, kw_only=True)
class ScopedHttpApiArgs:
    """The API's token issuer, its functions and routes, and its stage settings."""

    issuer: pulumi.Input[str] = field(metadata=rules(check=r.issuer_problem))
    """JWT issuer URL (https); the authorizer fetches its keys from
    ``<issuer>/.well-known/jwks.json``."""
    audiences: Sequence[pulumi.Input[str]] = field(metadata=rules(
        count=(1, r.MAX_AUDIENCES), why=r.AUDIENCES_QUOTA))
    """Accepted ``aud`` (or, where a token has none, ``client_id``) values."""
    functions: Mapping[str, pulumi.Input[str]]
    """Route handlers by key: each one's Lambda function ARN (HTTP APIs integrate a function by
    its plain ARN). Each gets one integration and one invoke permission."""
    scopes: Mapping[str, pulumi.Input[str] | Sequence[pulumi.Input[str]]] | None = field(
        default_factory=dict)
    """Scopes by name: a route lists names, and demands their values; a name may stand for
    several scopes (a group's one per app client). Pass ``ScopedIdentityPool``'s
    ``group_scopes`` output (group -> its scopes) and routes name groups; or literal scopes of
    any issuer (``{"read": "orders:read"}``)."""
    routes: Sequence[ApiRoute] = field(metadata=rules(
        count=(1, r.MAX_ROUTES_PER_API), unique=(_route_key_of, "route"), why=r.ROUTES_QUOTA))
    """The routes; every function must serve at least one."""
    stage_name: str | None = field(default=r.DEFAULT_STAGE, metadata=rules(
        check=r.stage_name_problem))
    """The stage to auto-deploy. ``$default`` serves at the API's root URL."""
    throttling_burst_limit: int | None = field(default=100, metadata=rules(
        check=r.WholeRange("burst limit", *r.THROTTLING_BURST_RANGE)))
    """The stage's default-route burst limit (requests)."""
    throttling_rate_limit: float | None = field(default=50.0, metadata=rules(
        check=r.NumberRange("rate limit", *r.THROTTLING_RATE_RANGE)))
    """The stage's default-route steady rate, requests per second."""
    cors_origins: Sequence[str] | None = field(default=(), metadata=rules(
        each=r.cors_origin_problem, count=(0, r.MAX_CORS_ORIGINS),
        unique=(lambda o: o, "origin")))
    """Browser origins allowed by CORS, exactly as browsers send ``Origin``
    (``https://app.example.com``, no trailing ``/``) or ``*``. Empty: no CORS configuration.
    Routes that demand a token and would catch a preflight get a public ``OPTIONS`` route."""
    log_retention_days: int | None = field(default=r.DEFAULT_LOG_RETENTION_DAYS, metadata=rules(
        check=r.LogRetention()))
    """Days CloudWatch Logs keeps the access logs (and the CORS preflight function's logs)."""
    tags: Mapping[str, str] | None = field(default_factory=dict, metadata=rules(
        check=r.mapping_problem))
    """Tags for the API and its stage."""

    def cross_problems(self) -> list[Problem]:
        """Routes name known functions and scopes, every function serves a route, and with
        CORS no ``OPTIONS`` route demands a token. A map another resource computes is only
        known at deploy time: its names are checked then (``_entry``)."""
        if is_unknown(self.routes):
            return []
        routes = [route for route in self.routes if isinstance(route, ApiRoute)]
        found = []
        for i, route in enumerate(self.routes):
            if not isinstance(route, ApiRoute):
                continue
            found += _unknown_name(f"routes[{i}].function", route.function, self.functions,
                                   "function")
            names = route.scopes if isinstance(route.scopes, Sequence) else ()
            unknown = [p for name in names
                       for p in _unknown_name(f"routes[{i}].scopes", name, self.scopes or {},
                                              "scope")]
            found += unknown
            if not unknown and (problem := scope_quota_problem(route, self.scopes)):
                found.append(Problem(f"routes[{i}]", problem))
        if isinstance(self.functions, Mapping):
            served = {route.function for route in routes}
            found += [Problem("functions", f"function {key!r} serves no route")
                      for key in sorted(set(self.functions) - served)]
            if PREFLIGHT_FUNCTION_KEY in self.functions:
                found.append(Problem("functions", f"function key {PREFLIGHT_FUNCTION_KEY!r} is "
                                                  "reserved for the CORS preflight answer"))
        keys = [route.route_key for route in routes]
        readable = all(choice_problem(RouteAccess, "access", route.access) is None
                       for route in routes)
        if self.cors_origins and readable and not any(route_key_problem(k) for k in keys):
            found += [Problem(f"routes[{self.routes.index(routes[keys.index(key)])}]", message)
                      for key, message in preflight_problems(_protected(routes)).items()]
        return found


def _scope_count(value: object) -> int:
    """How many scopes one named entry stands for."""
    return len(value) if isinstance(value, Sequence) and not isinstance(value, str) else 1


def scope_quota_problem(route: ApiRoute, scopes: object) -> str | None:
    """Why ``route`` would demand more scopes than API Gateway allows per route, counting
    every scope its names stand for (a group: one per app client), or ``None``. Known only when
    the map is."""
    names = route.scopes if isinstance(route.scopes, Sequence) else ()
    machine = route.machine_scopes if isinstance(route.machine_scopes, Sequence) else ()
    if not isinstance(scopes, Mapping) or any(name not in scopes for name in names) \
            or max(len(names), len(machine)) > r.MAX_SCOPES_PER_ROUTE:  # the field's own problem
        return None
    counts = {name: _scope_count(scopes[name]) for name in names}
    total = sum(counts.values()) + len(machine)
    if total <= r.MAX_SCOPES_PER_ROUTE:
        return None
    parts = [f"{name} ({n})" for name, n in counts.items()]
    if machine:
        parts.append(f"{len(machine)} machine scope{'s' if len(machine) != 1 else ''}")
    return (f"{shown(route.route_key)} would demand {total} scopes: {', '.join(parts)}; "
            f"{r.SCOPES_QUOTA}")


def _protected(routes: Sequence[ApiRoute]) -> dict[str, bool]:
    return {route.route_key: demands_token(route.access) for route in routes}


def _unknown_name(path: str, name: object, names: object, what: str) -> list[Problem]:
    """``name`` must be a key of ``names`` (when both are known now)."""
    if not isinstance(names, Mapping) or is_unknown(name) or name in names:
        return []
    return [Problem(path, f"unknown {what} {shown(name)}{r.suggestion(name, names)}; {what}s "
                          f"are: {', '.join(sorted(names)) or '(none)'}")]


def _entry(mapping: pulumi.Input[Mapping[str, pulumi.Input[str]]], key: str,
           what: str) -> pulumi.Input[str]:
    """``mapping[key]``. Another language's program passes a map that depends on other
    resources as one ``Output`` (the provider cannot see inside it): then the lookup waits for
    the deployment, and an unknown key fails it naming the key."""
    if isinstance(mapping, Mapping):
        return mapping[key]

    def lookup(values: Mapping[str, str]) -> str:
        if key not in values:
            raise ValueError(f"unknown {what} {key!r}; {what}s are: {', '.join(sorted(values))}")
        return values[key]

    return pulumi.Output.from_input(mapping).apply(lookup)


def _route_scopes(mapping: pulumi.Input[Mapping[str, Any]],
                  route: ApiRoute) -> pulumi.Input[list[str]]:
    """Every scope ``route`` demands: what its names stand for, then its machine scopes. A
    count over API Gateway's quota, known only once deployed, fails the deployment naming it."""
    parts = [_entry(mapping, name, "scope") for name in route.scopes or ()]
    machine = list(route.machine_scopes or ())
    if not parts:
        return machine

    def flatten(values: list[Any]) -> list[str]:
        out = [s for v in values for s in (v if isinstance(v, (list, tuple)) else [v])] + machine
        if len(out) > r.MAX_SCOPES_PER_ROUTE:
            raise ValueError(f"{route.route_key} would demand {len(out)} scopes; "
                             f"{r.SCOPES_QUOTA}")
        return out

    return pulumi.Output.all(*parts).apply(flatten)


# A route anyone may call: no authorizer ("authorizationType": NONE, API Gateway's default).
_NO_AUTHORIZATION = {"authorization_type": NO_AUTHORIZATION}


class ScopedHttpApi(pulumi.ComponentResource):
    """HTTP API, one JWT authorizer, a route per key (public, any valid token, or one of its
    scopes), one Lambda proxy integration and invoke permission per function, an auto-deployed,
    throttled, logged stage, and with CORS the public OPTIONS routes that keep preflights away
    from the authorizer."""

    api_id: pulumi.Output[str]
    """The HTTP API's id."""
    api_endpoint: pulumi.Output[str]
    """``https://<apiId>.execute-api.<region>.amazonaws.com``."""
    execution_arn: pulumi.Output[str]
    """The ARN that invoke permissions name (``<executionArn>/<stage>/<method>/<path>``)."""
    invoke_url: pulumi.Output[str]
    """The stage's URL: the endpoint plus the stage name (nothing for ``$default``)."""
    route_urls: pulumi.Output[dict[str, str]]
    """Route key -> the URL it answers at (``{params}`` left as they are)."""

    def __init__(self, name: str, args: ScopedHttpApiArgs,
                 opts: pulumi.ResourceOptions | None = None):
        args = from_inputs(ScopedHttpApiArgs, args)  # a dict when another language calls
        require_valid("ScopedHttpApi", name, args)
        super().__init__(type_token("ScopedHttpApi"), name, None,
                         component_options("ScopedHttpApi", opts))
        child = pulumi.ResourceOptions(parent=self)

        cors = None
        if args.cors_origins:
            cors = {"allow_origins": list(args.cors_origins),
                    "allow_methods": cors_methods([r.route_key for r in args.routes]),
                    "allow_headers": ["authorization", "content-type"],
                    # A page may read why a call got 401 (the JWT authorizer's challenge).
                    "expose_headers": ["www-authenticate"], "max_age": 3600}
        self.api = aws.apigatewayv2.Api(
            f"{name}-api", protocol_type="HTTP", cors_configuration=cors,
            tags=args.tags or None, opts=child)

        self.authorizer = aws.apigatewayv2.Authorizer(
            f"{name}-jwt", api_id=self.api.id, authorizer_type=JWT_AUTHORIZATION, name=f"{name}-jwt",
            identity_sources=[IDENTITY_SOURCE],
            jwt_configuration={"issuer": args.issuer, "audiences": (
                list(args.audiences) if isinstance(args.audiences, Sequence) else args.audiences)},
            opts=child)

        routes = [(rt.route_key, rt.function, not demands_token(rt.access),
                   _route_scopes(args.scopes or {}, rt)) for rt in args.routes]
        functions = {key: _entry(args.functions, key, "function")
                     for key in dict.fromkeys(function for _, function, _, _ in routes)}
        preflights = preflight_route_keys(_protected(args.routes)) if args.cors_origins else []
        self.preflight_function = None
        if preflights:
            self.preflight_function = PythonFunction(
                f"{name}-cors-preflight", PythonFunctionArgs(
                    source_dir=packaged_function("preflight"),
                    description=f"CORS preflights of {', '.join(preflights)}",
                    log_retention_days=args.log_retention_days), opts=child)
            functions[PREFLIGHT_FUNCTION_KEY] = self.preflight_function.arn
            routes += [(key, PREFLIGHT_FUNCTION_KEY, True, []) for key in preflights]

        integrations = {}
        for key in dict.fromkeys(function for _, function, _, _ in routes):
            # An HTTP API integrates a Lambda function by its plain ARN as well as by its
            # invocation URI (AWS re:Post, "HTTP API ... IntegrationUri supports two ARN formats").
            integrations[key] = aws.apigatewayv2.Integration(
                f"{name}-{key}-integration", api_id=self.api.id, integration_type="AWS_PROXY",
                integration_method="POST", integration_uri=functions[key],
                payload_format_version="2.0",  # the default, "1.0", is the REST-style event
                opts=child)
            # Any stage, method and route of this API, and of no other.
            aws.lambda_.Permission(
                f"{name}-{key}-invoke", action="lambda:InvokeFunction", function=functions[key],
                principal=r.APIGATEWAY_PRINCIPAL,
                source_arn=self.api.execution_arn.apply(lambda arn: f"{arn}/*/*"), opts=child)

        self.routes = {key: aws.apigatewayv2.Route(
            route_resource_name(name, key), api_id=self.api.id, route_key=key,
            target=integrations[function].id.apply(lambda i: f"integrations/{i}"),
            **(_NO_AUTHORIZATION if public else {
                "authorization_type": JWT_AUTHORIZATION, "authorizer_id": self.authorizer.id,
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
        self.execution_arn = self.api.execution_arn
        self.invoke_url = self.stage.invoke_url
        keys = [rt.route_key for rt in args.routes]  # the routes asked for, not the preflights
        self.route_urls = self.stage.invoke_url.apply(
            lambda url: {key: route_url(url, key) for key in keys})
        self.register_outputs({"api_id": self.api_id, "api_endpoint": self.api_endpoint,
                               "execution_arn": self.execution_arn,
                               "invoke_url": self.invoke_url, "route_urls": self.route_urls})
