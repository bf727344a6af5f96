"""Who can call what, as the resources of a stack decide it: its user pools (groups, users,
memberships, app clients, the token the trigger writes scopes into) and its HTTP APIs (JWT
authorizers, routes, their access and scopes, CORS, stages). Pure.

Read from resources, not from any program's config: ``resources_of_run`` takes what a program
registered under Pulumi's mocks (``jwt_scoped.recording``), ``resources_of_state`` what a deployed
stack holds (``pulumi stack export --show-secrets``) or what the local sandbox created. The same
model of the same program therefore comes out of a plan, a sandbox and a deployment, and resources
are matched across them by URN.

Only what the components' trigger does is assumed: a pool whose Pre Token Generation trigger is
a ``ScopedIdentityPool``'s grants each member of a group the scope ``<group>-<clientId>`` for
the app client it signs in through (``jwt_scoped.scope_format``), in the token its trigger version
writes (``jwt_scoped.modes.token_use_of``). A pool of another kind grants no group scope.
A machine client (one that takes the client credentials grant) gets, whatever its pool, an
access token holding the OAuth scopes it may request, as written, and no user's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jwt_scoped import aws_types as T
from jwt_scoped.cognito_urls import issuer_url
from jwt_scoped.modes import (
    CLIENT_CREDENTIALS,
    JWT_AUTHORIZATION,
    RouteAccess,
    TokenUse,
    route_access,
    token_use_of,
)
from jwt_scoped.package import PACKAGE, PREVIOUS_PACKAGE
from jwt_scoped.rules import DEFAULT_STAGE
from jwt_scoped.scope_format import scope_name

# How Pulumi marks a secret value in a state file (``plaintext``: with --show-secrets) and on the
# wire (``value``).
SECRET_SIG_KEY, SECRET_SIG = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"
IDENTITY_POOL_TYPES = tuple(f"{package}:index:ScopedIdentityPool"
                            for package in (PACKAGE, PREVIOUS_PACKAGE))


def plain(value: Any) -> Any:
    """``value`` with every secret unwrapped (a state file's ``plaintext``, the wire's ``value``)."""
    if isinstance(value, Mapping):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            if "plaintext" in value:
                return plain(json.loads(value["plaintext"]))
            return plain(value.get("value"))
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@dataclass(frozen=True)
class Resource:
    """One resource, as a recorded registration or a state file has it."""

    urn: str
    type: str
    id: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        """A property: its output value, else the input it was given."""
        if key in self.outputs and self.outputs[key] not in (None, ""):
            return self.outputs[key]
        return self.inputs.get(key, default)

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def type_chain(self) -> str:
        """``<parent type>$...$<type>``: the URN's qualified type."""
        return self.urn.rsplit("::", 2)[-2] if self.urn.count("::") >= 3 else self.type


def resources_of_run(registered: Iterable[Any]) -> list[Resource]:
    """What a program registered under the recording mocks (``Run.registered``)."""
    return [Resource(r.urn, r.type, r.id or "", plain(r.inputs), plain(r.outputs))
            for r in registered]


def resources_of_state(document: Mapping[str, Any]) -> list[Resource]:
    """The resources of a state file: ``pulumi stack export`` output (``deployment.resources``)."""
    deployment = document.get("deployment") if isinstance(document, Mapping) else None
    entries = deployment.get("resources") if isinstance(deployment, Mapping) else None
    if not isinstance(entries, list):
        raise ValueError("not a Pulumi state file: no deployment.resources (the output of "
                         "`pulumi stack export --show-secrets`)")
    return [Resource(str(e.get("urn", "")), str(e.get("type", "")), str(e.get("id") or ""),
                     plain(e.get("inputs") or {}), plain(e.get("outputs") or {}))
            for e in entries if isinstance(e, Mapping)]


# ---- the model ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Group:
    name: str
    description: str | None = None


@dataclass(frozen=True)
class User:
    urn: str
    username: str
    password: str | None
    groups: tuple[str, ...]
    enabled: bool = True


@dataclass(frozen=True)
class Client:
    urn: str
    name: str
    id: str
    secret: str | None
    explicit_auth_flows: tuple[str, ...] = ()
    oauth_flows: tuple[str, ...] = ()
    oauth_scopes: tuple[str, ...] = ()
    callback_urls: tuple[str, ...] = ()
    logout_urls: tuple[str, ...] = ()

    @property
    def machine(self) -> bool:
        """A client for services: it takes the client credentials grant, and no user signs in
        through it."""
        return CLIENT_CREDENTIALS in self.oauth_flows


@dataclass(frozen=True)
class Pool:
    urn: str
    name: str
    id: str
    issuer: str
    token_use: TokenUse | None
    """The token the jwt-scoped trigger writes group scopes into; ``None``: the pool has no such
    trigger, so its tokens carry no group scope."""
    groups: tuple[Group, ...]
    users: tuple[User, ...]
    clients: tuple[Client, ...]
    domain: str | None = None

    @property
    def user_clients(self) -> tuple[Client, ...]:
        """The clients users sign in through."""
        return tuple(c for c in self.clients if not c.machine)

    @property
    def machine_clients(self) -> tuple[Client, ...]:
        """The clients services call through, with the client credentials grant."""
        return tuple(c for c in self.clients if c.machine)

    def scopes_of(self, user: User, client: Client) -> tuple[str, ...]:
        """The group scopes in ``user``'s token from ``client`` (the one that carries them)."""
        if self.token_use is None:
            return ()
        return tuple(scope_name(g, client.id) for g in user.groups)


@dataclass(frozen=True)
class Authorizer:
    id: str
    issuer: str | None
    audiences: tuple[str, ...]


@dataclass(frozen=True)
class Route:
    urn: str
    key: str
    access: RouteAccess | None
    """``None``: an authorization the model does not know (IAM, a Lambda authorizer)."""
    scopes: tuple[str, ...]
    authorizer: Authorizer | None


@dataclass(frozen=True)
class Api:
    urn: str
    name: str
    id: str
    routes: tuple[Route, ...]
    cors_origins: tuple[str, ...] = ()
    stage_name: str = DEFAULT_STAGE
    invoke_url: str | None = None
    stage_urn: str | None = None


@dataclass(frozen=True)
class StackModel:
    pools: tuple[Pool, ...] = ()
    apis: tuple[Api, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    """What the state file says beside the resources (the sandbox's local endpoints)."""

    def pool(self, urn: str) -> Pool | None:
        return next((p for p in self.pools if p.urn == urn), None)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, (list, tuple)) else ()


def _by(resources: Sequence[Resource], typ: str) -> list[Resource]:
    return [r for r in resources if r.type == typ]


def stack_model(resources: Sequence[Resource], extra: Mapping[str, Any] | None = None) -> StackModel:
    """The pools and APIs of a stack, from its resources (linked by id, as AWS links them)."""
    pools = []
    for pool in _by(resources, T.USER_POOL):
        pid = pool.id

        def of_pool(typ: str, pid: str = pid) -> list[Resource]:
            return [r for r in _by(resources, typ) if r.get("userPoolId") == pid]

        members: dict[str, list[str]] = {}
        for membership in of_pool(T.USER_IN_GROUP):
            members.setdefault(str(membership.get("username")), []).append(
                str(membership.get("groupName")))
        config = (pool.get("lambdaConfig") or {}).get("preTokenGenerationConfig") or {}
        scoped = any(chain in pool.type_chain for chain in IDENTITY_POOL_TYPES)
        domains = of_pool(T.USER_POOL_DOMAIN)
        pools.append(Pool(
            urn=pool.urn, name=pool.name, id=pid,
            issuer=issuer_url(str(pool.get("endpoint") or "")),
            token_use=token_use_of(config.get("lambdaVersion")) if scoped else None,
            groups=tuple(Group(str(g.get("name")), g.get("description"))
                         for g in of_pool(T.USER_GROUP)),
            users=tuple(User(u.urn, str(u.get("username")), u.get("password"),
                             tuple(members.get(str(u.get("username")), ())),
                             u.get("enabled") is not False)
                        for u in of_pool(T.USER)),
            clients=tuple(Client(
                urn=c.urn, name=str(c.inputs.get("name") or c.name), id=c.id,
                secret=c.get("clientSecret") or None,
                explicit_auth_flows=_strings(c.get("explicitAuthFlows")),
                oauth_flows=_strings(c.get("allowedOauthFlows")),
                oauth_scopes=_strings(c.get("allowedOauthScopes")),
                callback_urls=_strings(c.get("callbackUrls")),
                logout_urls=_strings(c.get("logoutUrls")))
                for c in of_pool(T.USER_POOL_CLIENT)),
            domain=str(domains[0].get("domain")) if domains else None))
    apis = []
    for api in _by(resources, T.API):
        aid = api.id
        authorizers = {a.id: Authorizer(a.id, (a.get("jwtConfiguration") or {}).get("issuer"),
                                        _strings((a.get("jwtConfiguration") or {}).get("audiences")))
                       for a in _by(resources, T.AUTHORIZER) if a.get("apiId") == aid
                       and a.get("authorizerType") == JWT_AUTHORIZATION}
        routes = []
        for route in (r for r in _by(resources, T.ROUTE) if r.get("apiId") == aid):
            authorizer = authorizers.get(str(route.get("authorizerId") or ""))
            scopes = _strings(route.get("authorizationScopes"))
            routes.append(Route(route.urn, str(route.get("routeKey")),
                                route_access(route.get("authorizationType"),
                                             route.get("authorizerId") not in (None, ""), scopes),
                                scopes, authorizer))
        stages = [s for s in _by(resources, T.STAGE) if s.get("apiId") == aid]
        stage = stages[0] if stages else None
        cors = api.get("corsConfiguration") or {}
        apis.append(Api(urn=api.urn, name=api.name, id=aid, routes=tuple(routes),
                        cors_origins=_strings(cors.get("allowOrigins")),
                        stage_name=str(stage.get("name")) if stage else DEFAULT_STAGE,
                        invoke_url=stage.get("invokeUrl") if stage else None,
                        stage_urn=stage.urn if stage else None))
    return StackModel(tuple(pools), tuple(apis), dict(extra or {}))
