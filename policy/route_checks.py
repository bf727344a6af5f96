"""Routes of HTTP APIs: who may call them, CORS preflights, duplicate keys, routes nobody can call.

Route access (``jwt_scoped.modes.RouteAccess``, read back from a route's resource by
``jwt_scoped.modes.route_access``; the recorded AWS resources are the contract):

- public: ``authorizationType: NONE``, no authorizer, no scopes. Anyone gets through.
- signed-in: ``JWT``, an authorizer, no scopes: any valid token of the issuer and audience.
- groups: ``JWT``, an authorizer, 1 to 10 scopes: a token holding one of them.

Every route of an API that has a JWT authorizer must be a groups route, except the keys the
pack's config lists as public or signed-in, and the public ``OPTIONS`` routes that answer CORS
preflights on an API with CORS configured (browsers send a preflight without a token, so
``ScopedHttpApi`` adds such routes when ``corsOrigins`` is set; ``jwt_scoped.cors``). The config
must match the stack.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jwt_scoped import aws_types as t
from jwt_scoped.cors import PREFLIGHT_METHOD, is_preflight_route, preflight_answerer
from jwt_scoped.model import duplicate_keys
from jwt_scoped.modes import (
    JWT_AUTHORIZATION,
    NO_AUTHORIZATION,
    RouteAccess,
    demands_token,
    route_access,
)
from jwt_scoped.route_keys import parse_route_key, route_key_problem
from jwt_scoped.rules import MAX_SCOPES_PER_ROUTE, SCOPE_SEPARATOR
from jwt_scoped.scope_format import scope_name

from .values import UNKNOWN, Finding, Node, is_set, of_type, referenced, stack_urn

WEBSOCKET = "WEBSOCKET"  # an Api's protocolType: HTTP or WEBSOCKET


# --- decisions over plain values -----------------------------------------------------------

def _preflight_route(key: str, api_cors: Any) -> bool:
    """Whether a public route of this key is a CORS preflight route (``jwt_scoped.cors``): an
    ``OPTIONS`` route of an API with CORS configured, or whose CORS a preview does not know yet
    (``api_cors`` True, False or UNKNOWN)."""
    return route_key_problem(key) is None and is_preflight_route(
        key, demands_token=False, api_has_cors=api_cors is not False)


@dataclass(frozen=True)
class RouteFacts:
    """What the route-authorization rule needs to know about one route, as plain values."""

    key: str
    authorization_type: Any
    """``NONE``, ``JWT``, ``AWS_IAM``, ``CUSTOM``, ``None`` (AWS's default: NONE) or UNKNOWN."""
    authorizer: str
    """``api`` (a JWT authorizer of the route's own API), ``other`` (an authorizer ID that is
    not one) or ``none``."""
    scopes: Any = None
    """The authorization scopes: a list (items may be UNKNOWN), ``None`` or UNKNOWN."""
    api_cors: Any = False
    """Whether the route's API has a CORS configuration (or UNKNOWN)."""
    shares_handler: bool = False
    """The route's integration, or the function behind it, also serves routes that demand a
    token."""


@dataclass(frozen=True)
class RouteExceptions:
    """The route keys the pack's config lets out of the groups rule."""

    public: frozenset[str] = frozenset()
    signed_in: frozenset[str] = frozenset()


def route_authorization_problem(route: RouteFacts, exceptions: RouteExceptions) -> str | None:
    """Why ``route`` (of an API with a JWT authorizer) breaks the rule, or ``None``."""
    key, auth = route.key, route.authorization_type
    if auth is UNKNOWN:
        return None
    if auth in (None, NO_AUTHORIZATION):
        if route.authorizer != "none" or (route.scopes is not UNKNOWN and route.scopes):
            return (f"route {key!r} names an authorizer or scopes but has authorizationType "
                    f"NONE, so no authorizer runs and anyone can call it")
        if key in exceptions.public:
            return None
        if _preflight_route(key, route.api_cors):
            if not route.shares_handler:
                return None  # a CORS preflight route: browsers send no token with a preflight
            return (f"route {key!r} is public as a CORS preflight route, but its integration "
                    f"also serves routes that demand a token: anyone can reach that handler "
                    f"with {PREFLIGHT_METHOD}. Give preflight routes an integration of their own")
        why = (" It is not a CORS preflight route: its API has no CORS configuration."
               if _preflight_route(key, api_cors=True) else "")
        return (f"route {key!r} takes no token (authorizationType NONE): anyone can call it.{why} "
                f"Give it the API's JWT authorizer and 1 to {MAX_SCOPES_PER_ROUTE} scopes, or "
                f"list {key!r} in publicRoutes if it is meant to be public")
    if auth != JWT_AUTHORIZATION:
        return (f"route {key!r} has authorizationType {auth!r}, not the API's JWT authorizer")
    if route.authorizer == "none":
        return f"route {key!r} has authorizationType JWT but no authorizerId"
    if route.authorizer == "other":
        return f"route {key!r} uses an authorizer that is not a JWT authorizer of its own API"
    if route.scopes is UNKNOWN:
        return None  # how many scopes is known once the values are
    count = len(route.scopes or ())
    if count == 0:
        if key in exceptions.signed_in:
            return None
        return (f"route {key!r} demands no scope, so any signed-in user of the issuer and "
                f"audience can call it. Give it 1 to {MAX_SCOPES_PER_ROUTE} scopes, or list "
                f"{key!r} in signedInRoutes if that is intended")
    if count > MAX_SCOPES_PER_ROUTE:
        return (f"route {key!r} demands {count} scopes; API Gateway takes at most "
                f"{MAX_SCOPES_PER_ROUTE} per route (a hard quota)")
    return None


_MODE_NAMES = {RouteAccess.PUBLIC: "public", RouteAccess.SIGNED_IN: "open to any signed-in user",
               RouteAccess.GROUPS: "scoped to groups", None: "neither public, signed-in nor scoped"}


def exception_problems(exceptions: RouteExceptions, modes: Mapping[str, Collection[Any]]) -> list[str]:
    """Config exceptions that do not match the stack: keys that are not route keys, keys in both
    lists, keys no route has, keys whose routes are not of the listed mode. ``modes``: route key
    -> the access modes of the stack's routes with that key (``None`` for no mode, UNKNOWN when
    not yet known)."""
    problems = []
    for option, keys, mode in (("publicRoutes", exceptions.public, RouteAccess.PUBLIC),
                               ("signedInRoutes", exceptions.signed_in, RouteAccess.SIGNED_IN)):
        for key in sorted(keys):
            if problem := route_key_problem(key):
                problems.append(f"{option}: {problem}")
            elif key not in modes:
                problems.append(f"{option} lists {key!r}, but no route of this stack has that "
                                f"key: remove it from the list")
            elif any(m is not UNKNOWN and m != mode for m in modes[key]):
                found = " and ".join(sorted({_MODE_NAMES.get(m, _MODE_NAMES[None])
                                             for m in modes[key] if m is not UNKNOWN}))
                problems.append(f"{option} lists {key!r}, but that route is {found}, not "
                                f"{_MODE_NAMES[mode]}: the exception does not match the stack")
    for key in sorted(exceptions.public & exceptions.signed_in):
        problems.append(f"{key!r} is listed in both publicRoutes and signedInRoutes")
    return problems


def preflight_problems(routes: Mapping[str, Any]) -> dict[str, str]:
    """On an API with CORS configured: route key -> why it blocks CORS preflights, for each route
    that answers a preflight (``OPTIONS``, per API Gateway's route selection) but demands a token.
    ``routes``: route key -> whether the route demands a token (True, False or UNKNOWN)."""
    keys = [k for k in routes if route_key_problem(k) is None]
    probes = ["/", "/sample"] + [parse_route_key(k).sample_path() for k in keys]
    problems: dict[str, str] = {}
    for path in dict.fromkeys(probes):
        answering = preflight_answerer(path, keys)
        if answering is None or routes[answering] is not True or answering in problems:
            continue
        problems[answering] = (
            f"route {answering!r} demands a token but answers CORS preflights (such as "
            f"{PREFLIGHT_METHOD} {path}), which browsers send without one: they get 401 and no "
            f"cross-origin call is made. Add a public {PREFLIGHT_METHOD} route for its path "
            f"(ScopedHttpApi does when corsOrigins is set)")
    return problems


def granted_scopes(groups: Iterable[str], client_ids: Iterable[str]) -> set[str]:
    """The scopes membership of ``groups`` grants in tokens for the app clients ``client_ids``
    (the one scope format, ``jwt_scoped.scope_format``)."""
    return {scope_name(g, c) for g in groups for c in client_ids}


def is_machine_scope(scope: Any) -> bool:
    """Whether ``scope`` is a resource server's (``<identifier>/<scope>``, such as
    ``orders/read``), which a client requests, rather than a group's ``<group>-<appClientId>``:
    group names hold no ``/`` (``jwt_scoped.rules.NAME_RULE``)."""
    return isinstance(scope, str) and SCOPE_SEPARATOR in scope


def unadmitted_scopes(scopes: Sequence[Any], granted: Collection[str]) -> list[str]:
    """The known group scopes of a route that no group grants. Machine scopes are left to the
    machine-scopes rule (``machine_checks``)."""
    return [s for s in scopes
            if isinstance(s, str) and not is_machine_scope(s) and s not in granted]


# --- the stack's HTTP APIs, from its nodes ---------------------------------------------------

@dataclass
class HttpApi:
    """An HTTP API of the stack with its routes and JWT authorizers; ``api`` is ``None`` for
    routes whose API is not in the stack (grouped by their known ``apiId``)."""

    api: Node | None
    routes: list[Node] = field(default_factory=list)
    authorizers: list[Node] = field(default_factory=list)

    @property
    def cors(self) -> Any:
        if self.api is None:
            return UNKNOWN
        cors = self.api.get("corsConfiguration")
        if cors is UNKNOWN:
            return UNKNOWN
        return bool(cors)


def http_apis(nodes: Sequence[Node]) -> list[HttpApi]:
    """The stack's HTTP APIs (WebSocket APIs are left out), each with its routes and JWT
    authorizers, related by dependency or by known ``apiId``."""
    apis = [HttpApi(a) for a in of_type(nodes, t.API) if a.get("protocolType") != WEBSOCKET]
    websocket = [a for a in of_type(nodes, t.API) if a.get("protocolType") == WEBSOCKET]
    outside: dict[str, HttpApi] = {}
    for typ, attr in ((t.ROUTE, "routes"), (t.AUTHORIZER, "authorizers")):
        for node in of_type(nodes, typ):
            # An Authorizer's authorizerType (JWT or REQUEST) uses the route's word for JWT.
            if typ == t.AUTHORIZER and node.get("authorizerType") != JWT_AUTHORIZATION:
                continue
            if referenced(node, "apiId", websocket):
                continue
            owners = [h for h in apis if referenced(node, "apiId", [h.api])]
            if not owners:
                api_id = node.get("apiId")
                if not isinstance(api_id, str):
                    continue
                owners = [outside.setdefault(api_id, HttpApi(None))]
            getattr(owners[0], attr).append(node)
    return apis + list(outside.values())


def _handlers(route: Node, integrations: Sequence[Node], functions: Sequence[Node]) -> set[str]:
    """URNs of the integration a route targets and of the function behind it (an empty set
    while they cannot be told)."""
    target = route.get("target")
    integration_id = target.removeprefix("integrations/") if isinstance(target, str) else target
    found = referenced(route, "target", integrations, value=integration_id)
    behind = [f for i in found for f in referenced(i, "integrationUri", functions)]
    return {n.urn for n in found + behind}


def _authorizer_of(route: Node, api: HttpApi) -> str:
    if not is_set(route.get("authorizerId")):
        return "none"
    return "api" if referenced(route, "authorizerId", api.authorizers) else "other"


def access_of(route: Node) -> Any:
    """The route's access (``jwt_scoped.modes.route_access``): ``None`` for a combination that is
    none of the three, UNKNOWN while a preview cannot tell (its authorization type, or the scopes
    of a route that may run an authorizer, not known yet)."""
    auth, scopes = route.get("authorizationType"), route.get("authorizationScopes")
    if auth is UNKNOWN or (scopes is UNKNOWN and auth != NO_AUTHORIZATION):
        return UNKNOWN
    return route_access(auth, is_set(route.get("authorizerId")), scopes)


def _demands_token(route: Node) -> Any:
    """Whether a request to the route needs a token (True, False or UNKNOWN): as its access says
    (``jwt_scoped.modes.demands_token``), and for a route of none of the three, whenever it has
    an authorization type other than NONE (API Gateway runs that authorizer first)."""
    auth = route.get("authorizationType")
    if auth is UNKNOWN:
        return UNKNOWN
    access = access_of(route)
    if isinstance(access, RouteAccess):
        return demands_token(access)
    return auth not in (None, NO_AUTHORIZATION)


def key_of(route: Node) -> str | None:
    key = route.get("routeKey")
    return key if isinstance(key, str) else None


def route_authorization_findings(nodes: Sequence[Node], exceptions: RouteExceptions) -> list[Finding]:
    """Every route of an API with a JWT authorizer uses it with 1 to 10 scopes, but for the
    exceptions; and the exceptions match the stack."""
    integrations, functions = of_type(nodes, t.INTEGRATION), of_type(nodes, t.FUNCTION)
    findings = []
    modes: dict[str, list[Any]] = {}
    for api in http_apis(nodes):
        for route in api.routes:
            if (key := key_of(route)) is not None:
                modes.setdefault(key, []).append(access_of(route))
        if not api.authorizers:
            continue
        token_handlers = {h for r in api.routes if _demands_token(r) is not False
                          for h in _handlers(r, integrations, functions)}
        for route in api.routes:
            key = key_of(route)
            if key is None:
                continue
            shares = bool(_handlers(route, integrations, functions) & token_handlers) and (
                _demands_token(route) is False)
            facts = RouteFacts(key, route.get("authorizationType"), _authorizer_of(route, api),
                               route.get("authorizationScopes"), api.cors, shares)
            if problem := route_authorization_problem(facts, exceptions):
                findings.append(Finding(route.urn, problem))
    root = stack_urn(nodes)
    findings += [Finding(root, p) for p in exception_problems(exceptions, modes)]
    return findings


def preflight_findings(nodes: Sequence[Node]) -> list[Finding]:
    """On each API with CORS configured, no route that demands a token answers a preflight."""
    findings = []
    for api in http_apis(nodes):
        if api.cors is not True:
            continue
        by_key = {k: r for r in api.routes if (k := key_of(r)) is not None}
        demands = {k: _demands_token(r) for k, r in by_key.items()}
        for key, problem in preflight_problems(demands).items():
            findings.append(Finding(by_key[key].urn, problem))
    return findings


def duplicate_key_findings(nodes: Sequence[Node]) -> list[Finding]:
    """No two routes of one API share a route key."""
    findings = []
    for api in http_apis(nodes):
        keys = [k for r in api.routes if (k := key_of(r)) is not None]
        for key in duplicate_keys(keys):
            same = [r for r in api.routes if key_of(r) == key]
            names = ", ".join(r.name for r in same)
            for route in same[1:]:
                findings.append(Finding(route.urn, f"route key {key!r} is used by {len(same)} "
                                                   f"routes of one API ({names}); API Gateway "
                                                   f"keeps one route per key"))
    return findings


def admits_nobody_findings(nodes: Sequence[Node]) -> list[Finding]:
    """Each scope a groups route demands is granted by membership of some group of the user
    pool that issues its tokens, when that pool is in the stack."""
    pools = of_type(nodes, t.USER_POOL)
    clients = of_type(nodes, t.USER_POOL_CLIENT)
    groups = of_type(nodes, t.USER_GROUP)
    findings = []
    for api in http_apis(nodes):
        for route in api.routes:
            scopes = route.get("authorizationScopes")
            if access_of(route) is not RouteAccess.GROUPS or scopes is UNKNOWN:
                continue
            authorizers = referenced(route, "authorizerId", api.authorizers)
            if not authorizers:
                continue
            authorizer = authorizers[0]
            pool = issuing_pool(authorizer, pools)
            if pool is None or not unadmitted_scopes(scopes, ()):
                continue  # no pool in the stack to ask, or no group scope to judge
            client_ids = audience_client_ids(authorizer, clients, pool)
            if client_ids is UNKNOWN:
                continue  # the app client's ID, part of every scope, is known once it exists
            names = [g.get("name") for g in groups if referenced(g, "userPoolId", [pool])]
            if any(not isinstance(n, str) for n in names):
                continue
            missing = unadmitted_scopes(scopes, granted_scopes(names, client_ids))
            if missing:
                findings.append(Finding(route.urn, (
                    f"route {key_of(route)!r} demands scope(s) {', '.join(repr(s) for s in missing)}"
                    f" that no group of user pool {pool.name!r} grants "
                    f"(groups: {', '.join(sorted(names)) or 'none'}): "
                    f"a token with {'it' if len(missing) == 1 else 'them'} is never issued")))
    return findings


def issuing_pool(authorizer: Node, pools: Sequence[Node]) -> Node | None:
    """The stack's user pool whose tokens the authorizer accepts: its issuer came from the pool,
    or equals the pool's issuer URL (``https://`` + its endpoint)."""
    issuer = authorizer.get("jwtConfiguration", "issuer")
    deps = authorizer.property_dependencies.get("jwtConfiguration", frozenset())
    for pool in pools:
        endpoint = pool.get("endpoint")
        if pool.urn in deps or (isinstance(issuer, str) and isinstance(endpoint, str)
                                and issuer.rstrip("/") == f"https://{endpoint}".rstrip("/")):
            return pool
    return None


def audience_client_ids(authorizer: Node, clients: Sequence[Node], pool: Node) -> Any:
    """The app client IDs of ``pool`` among the authorizer's audiences; UNKNOWN while an
    audience that comes from one of the pool's clients is not known yet."""
    audiences = authorizer.get("jwtConfiguration", "audiences")
    if audiences is UNKNOWN:
        return UNKNOWN
    if not isinstance(audiences, list):
        return []
    deps = authorizer.property_dependencies.get("jwtConfiguration", frozenset())
    of_pool = [c for c in clients if referenced(c, "userPoolId", [pool])]
    from_pool = any(c.urn in deps for c in of_pool)
    if from_pool and any(a is UNKNOWN for a in audiences):
        return UNKNOWN
    known = [a for a in audiences if isinstance(a, str)]
    ids = [c.get("id") for c in of_pool]
    if from_pool and not all(isinstance(i, str) for i in ids):
        return known  # the clients' IDs are not among their properties: trust the dependency
    return [a for a in known if a in ids]


def audience_clients(authorizer: Node, clients: Sequence[Node], pool: Node) -> Any:
    """The app clients of ``pool`` whose tokens the authorizer admits: those whose ID is among
    its audiences, or, while the audiences are not known (a preview of a new stack), those the
    audiences came from (the engine's property dependencies). UNKNOWN when neither tells."""
    of_pool = [c for c in clients if referenced(c, "userPoolId", [pool])]
    ids = audience_client_ids(authorizer, of_pool, pool)
    if ids is not UNKNOWN and all(isinstance(c.get("id"), str) for c in of_pool):
        return [c for c in of_pool if c.get("id") in ids]
    deps = authorizer.property_dependencies.get("jwtConfiguration", frozenset())
    from_deps = [c for c in of_pool if c.urn in deps]
    return from_deps if from_deps else UNKNOWN
