"""The HTTP APIs the program registers (``aws:apigatewayv2/*`` inputs), as the local gateway
serves them: APIs, JWT authorizers, integrations, routes and stages, with AWS-shaped ids.

Defaults are API Gateway's, not the program's, so a setting the program forgets shows: an
integration's payload format defaults to ``1.0`` (which the sandbox does not serve); a stage
without ``autoDeploy`` (and no deployment) serves nothing; a route's authorization defaults to
``NONE``. Stage variables and per-route throttling, which the components never set, are not
modelled (``Sandbox.warnings`` says so when a program sets them).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jwt_scoped.modes import NO_AUTHORIZATION
from jwt_scoped.rules import DEFAULT_STAGE

DEFAULT_PAYLOAD_FORMAT = "1.0"  # Integration.payloadFormatVersion default for HTTP APIs
# HTTP API integration timeout: 30 s, the default and the maximum ("Amazon API Gateway quotas").
DEFAULT_INTEGRATION_TIMEOUT_MS = 30_000
_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_id(length: int) -> str:
    """An id shaped like API Gateway's: lowercase letters and digits."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class Cors:
    """``corsConfiguration`` of an API ("Configuring CORS for an HTTP API")."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    @classmethod
    def from_inputs(cls, value: Mapping[str, Any] | None) -> Cors | None:
        if not value:
            return None
        max_age = value.get("maxAge")
        return cls(allow_origins=tuple(value.get("allowOrigins") or ()),
                   allow_methods=tuple(value.get("allowMethods") or ()),
                   allow_headers=tuple(value.get("allowHeaders") or ()),
                   expose_headers=tuple(value.get("exposeHeaders") or ()),
                   max_age=None if max_age is None else int(max_age),
                   allow_credentials=bool(value.get("allowCredentials")))


@dataclass(frozen=True)
class Api:
    id: str
    name: str
    execution_arn: str
    endpoint: str
    cors: Cors | None = None
    execute_api_endpoint_disabled: bool = False


@dataclass(frozen=True)
class Authorizer:
    id: str
    api_id: str
    name: str
    type: str
    identity_sources: tuple[str, ...]
    issuer: str | None
    audiences: tuple[str, ...]


@dataclass(frozen=True)
class Integration:
    id: str
    api_id: str
    type: str
    uri: str
    payload_format: str
    timeout_ms: int


@dataclass(frozen=True)
class Route:
    id: str
    api_id: str
    key: str
    target: str | None
    authorization_type: str
    authorizer_id: str | None
    scopes: tuple[str, ...]

    @property
    def integration_id(self) -> str | None:
        """``target`` is ``integrations/<id>``."""
        prefix = "integrations/"
        return self.target[len(prefix):] if self.target and self.target.startswith(prefix) else None


@dataclass(frozen=True)
class Throttle:
    burst: float
    rate: float


@dataclass(frozen=True)
class Stage:
    api_id: str
    name: str
    deployed: bool
    """``autoDeploy`` on, or a deployment given: without either a stage serves nothing."""
    default_throttle: Throttle | None
    log_format: str | None
    log_destination: str | None
    unmodelled: tuple[str, ...] = ()
    """Settings the program gave that the sandbox does not serve (``stageVariables``, ...)."""

    @property
    def path_prefix(self) -> str:
        """Where the stage serves: ``/<name>``, or the root for ``$default``."""
        return "" if self.name == DEFAULT_STAGE else f"/{self.name}"


def _throttle(settings: Mapping[str, Any] | None) -> Throttle | None:
    if not settings or (settings.get("throttlingBurstLimit") is None
                        and settings.get("throttlingRateLimit") is None):
        return None
    # An unset half of the pair leaves that side unlimited.
    burst = settings.get("throttlingBurstLimit")
    rate = settings.get("throttlingRateLimit")
    return Throttle(burst=float("inf") if burst is None else float(burst),
                    rate=float("inf") if rate is None else float(rate))


@dataclass
class LocalApis:
    """Every API resource of one sandbox, by id."""

    region: str
    account: str
    apis: dict[str, Api] = field(default_factory=dict)
    authorizers: dict[str, Authorizer] = field(default_factory=dict)
    integrations: dict[str, Integration] = field(default_factory=dict)
    routes: dict[str, Route] = field(default_factory=dict)
    stages: dict[tuple[str, str], Stage] = field(default_factory=dict)

    def create_api(self, resource_name: str, inputs: Mapping[str, Any], endpoint_for) -> Api:
        """``endpoint_for(api_id)`` gives the local URL the API will answer on."""
        api_id = new_id(10)
        api = Api(id=api_id, name=inputs.get("name") or resource_name,
                  execution_arn=f"arn:aws:execute-api:{self.region}:{self.account}:{api_id}",
                  endpoint=endpoint_for(api_id), cors=Cors.from_inputs(inputs.get("corsConfiguration")),
                  execute_api_endpoint_disabled=bool(inputs.get("disableExecuteApiEndpoint")))
        self.apis[api_id] = api
        return api

    def create_authorizer(self, inputs: Mapping[str, Any]) -> Authorizer:
        jwt = inputs.get("jwtConfiguration") or {}
        authorizer = Authorizer(id=new_id(6), api_id=inputs["apiId"], name=inputs.get("name", ""),
                                type=inputs.get("authorizerType", ""),
                                identity_sources=tuple(inputs.get("identitySources") or ()),
                                issuer=jwt.get("issuer"),
                                audiences=tuple(jwt.get("audiences") or ()))
        self.authorizers[authorizer.id] = authorizer
        return authorizer

    def create_integration(self, inputs: Mapping[str, Any]) -> Integration:
        integration = Integration(
            id=new_id(7), api_id=inputs["apiId"], type=inputs.get("integrationType", ""),
            uri=inputs.get("integrationUri") or "",
            payload_format=inputs.get("payloadFormatVersion") or DEFAULT_PAYLOAD_FORMAT,
            timeout_ms=int(inputs.get("timeoutMilliseconds") or DEFAULT_INTEGRATION_TIMEOUT_MS))
        self.integrations[integration.id] = integration
        return integration

    def create_route(self, inputs: Mapping[str, Any]) -> Route:
        route = Route(id=new_id(7), api_id=inputs["apiId"], key=inputs["routeKey"],
                      target=inputs.get("target"),
                      authorization_type=inputs.get("authorizationType") or NO_AUTHORIZATION,
                      authorizer_id=inputs.get("authorizerId"),
                      scopes=tuple(inputs.get("authorizationScopes") or ()))
        self.routes[route.id] = route
        return route

    def create_stage(self, inputs: Mapping[str, Any]) -> Stage:
        log = inputs.get("accessLogSettings") or {}
        stage = Stage(
            api_id=inputs["apiId"], name=inputs["name"],
            deployed=bool(inputs.get("autoDeploy")) or bool(inputs.get("deploymentId")),
            default_throttle=_throttle(inputs.get("defaultRouteSettings")),
            log_format=log.get("format"), log_destination=log.get("destinationArn"),
            unmodelled=tuple(name for name in ("stageVariables", "routeSettings")
                             if inputs.get(name)))
        self.stages[(stage.api_id, stage.name)] = stage
        return stage

    def routes_of(self, api_id: str) -> dict[str, Route]:
        return {r.key: r for r in self.routes.values() if r.api_id == api_id}

    def stages_of(self, api_id: str) -> list[Stage]:
        return [s for (a, _), s in self.stages.items() if a == api_id]

    def invoke_url(self, api: Api, stage_name: str) -> str:
        """The stage URL, as API Gateway reports it (the root URL ends in ``/``)."""
        return f"{api.endpoint}/{'' if stage_name == DEFAULT_STAGE else stage_name}"

