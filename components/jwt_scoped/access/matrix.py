"""The expected access matrix of a stack, and what a reviewer should be warned about. Pure.

For every test user (through each app client users sign in with), every machine client and an
anonymous caller, for every route: the status API Gateway's JWT authorizer will answer with
(``expected_status``) and the scopes involved, from the stack's resources (``model``). In a plan
the app client ids are the mocks' stand-ins, so group scopes show them as
``CLIENT_ID_PLACEHOLDER`` (``<clientId:NAME>`` when users sign in through several clients).

A machine caller (``machine_caller``: ``machine <client name>``, which no username can be, as
usernames have no spaces) presents the access token of the client credentials grant asked for
without ``scope``, which holds every scope its client may request (Cognito's token endpoint).
Its scopes and the group scopes are compared as the strings they are, exactly as API Gateway
compares them: a group scope never stands for a machine scope, nor the other way round.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from jwt_scoped.cors import is_preflight_route, preflight_answerer, preflight_route_keys
from jwt_scoped.modes import RouteAccess, TokenUse, demands_token
from jwt_scoped.route_keys import answering_route, sample_requests
from jwt_scoped.rules import MAX_REQUEST_LINE_AND_HEADERS_BYTES
from jwt_scoped.scope_format import scope_name

from . import model as m
from .token_size import authorization_header_bytes, machine_header_bytes

ANONYMOUS = "(anonymous)"
MACHINE_PREFIX = "machine "
"""How a machine caller's name starts: ``machine nightly-job``."""
CLIENT_ID_PLACEHOLDER = "<appClientId>"
NAMED_CLIENT_PLACEHOLDER = "<clientId:{}>"
"""The placeholder of each app client's id when users sign in through several."""
UNAUTHORIZED, FORBIDDEN, OK, NO_CONTENT = 401, 403, 200, 204
# Warn when the estimated Authorization header alone takes this share of the 10,240 bytes: the
# request line, Host, User-Agent, cookies and any other header need the rest.
HEADER_WARNING_SHARE = 0.75
HEADER_WARNING_BYTES = int(MAX_REQUEST_LINE_AND_HEADERS_BYTES * HEADER_WARNING_SHARE)
API_GATEWAY = "API Gateway"
"""Who answers a preflight that no route matches."""


@dataclass(frozen=True)
class Route:
    key: str
    """The route key, ``GET /AdminUser`` or ``$default``."""
    method: str
    """The method of a request that this route answers (see ``sample_requests``)."""
    path: str
    """The path of that request (``{param}`` values chosen so no other route takes it)."""
    groups: tuple[str, ...]
    """Groups the route admits, any one will do (group access only)."""
    scopes: tuple[str, ...]
    """The scopes the route demands (any one), client id as the placeholder."""
    access: RouteAccess = RouteAccess.GROUPS
    """Who may call it: anyone, any signed-in user, or members of its groups."""
    urn: str | None = None
    """The route's resource, in the plan and in the deployed stack alike."""
    machine_scopes: tuple[str, ...] = ()
    """The scopes among ``scopes`` that no group grants, as written: for machine callers
    (``orders/read``)."""

    @property
    def admits(self) -> str:
        """Whom the route admits, in words for a reviewer."""
        if self.access is RouteAccess.PUBLIC:
            return "everyone (public)"
        if self.access is RouteAccess.SIGNED_IN:
            return "any signed-in user"
        groups = ", ".join(self.groups)
        if not self.machine_scopes:
            return groups
        machines = f"machines with {' or '.join(self.machine_scopes)}"
        return f"{groups}, or {machines}" if groups else machines


@dataclass(frozen=True)
class Caller:
    name: str
    """Username (with its app client's name when users sign in through several),
    ``machine_caller(client name)``, or ``ANONYMOUS``."""
    groups: tuple[str, ...]
    scopes: tuple[str, ...]
    """The scopes in the caller's token: a user's, one per group (the trigger writes them); a
    machine's, every scope its client may request."""
    header_bytes: int | None
    """Estimated size of the caller's ``Authorization`` header (see ``token_size``); None:
    anonymous."""
    user_urn: str | None = None
    """The test user's resource, in the plan and in the deployed stack alike."""
    client_urn: str | None = None
    """The app client it signs in or calls through."""
    machine: bool = False
    """A machine client, calling with the client credentials grant's access token."""
    client: str | None = None
    """The name of that app client; None: anonymous."""

    @property
    def anonymous(self) -> bool:
        return self.header_bytes is None


def machine_caller(client_name: str) -> str:
    """The caller name of a machine client: ``machine nightly-job``. Usernames have no spaces,
    so it is never a user's."""
    return f"{MACHINE_PREFIX}{client_name}"


@dataclass(frozen=True)
class Cell:
    caller: str
    route: str
    status: int
    scopes: tuple[str, ...]
    """The caller's scopes that the route accepts: why a 200 on a group route is a 200."""


@dataclass(frozen=True)
class Preflight:
    """A browser's CORS preflight for one route: ``OPTIONS path`` asking for ``method``."""

    route: str
    """The route whose request the browser is about to send."""
    path: str
    method: str
    """``Access-Control-Request-Method``: the route's sample method."""
    answered_by: str
    """``API_GATEWAY`` (no route matches the OPTIONS request), or the route key that does."""
    status: int | None
    """204 from API Gateway or the components' preflight function; ``None``: a 2xx from a
    public route's own function; 401 if a route that demands a token catches it."""


@dataclass(frozen=True)
class Finding:
    """A warning for the reviewer. ``kind`` is one of ``WARNING_KINDS``."""

    kind: str
    subject: str
    message: str


WARNING_KINDS = ("no-users", "route-nobody-can-call", "user-can-call-nothing", "group-without-route",
                 "token-near-header-limit", "route-shadowed", "public-route-takes-protected-requests",
                 "preflight-refused", "machine-scope-no-client-requests",
                 "machine-can-call-nothing")


@dataclass(frozen=True)
class AccessMatrix:
    token_use: TokenUse
    stage_name: str
    routes: tuple[Route, ...]
    callers: tuple[Caller, ...]
    """Configured users in config order, then machine clients, then the anonymous caller."""
    cells: tuple[Cell, ...]
    """One per (caller, route): callers in order, each across the routes in order."""
    warnings: tuple[Finding, ...]
    preflights: tuple[Preflight, ...] = ()
    """With CORS configured: one per distinct route request, in route order."""
    cors_origin: str | None = None
    """The origin a preflight check sends (the first configured one); None: no CORS."""
    placeholders: bool = True
    """Group scopes show app client ids as placeholders (a plan), not as the ids themselves: how
    to build another stack's matrix to compare routes with (``verify.drift``)."""

    @functools.cached_property
    def _cells(self) -> dict[tuple[str, str], Cell]:
        return {(c.caller, c.route): c for c in self.cells}

    def cell(self, caller: str, route: str) -> Cell:
        return self._cells[(caller, route)]

    def route(self, key: str) -> Route:
        return next(r for r in self.routes if r.key == key)

    @property
    def users(self) -> tuple[Caller, ...]:
        """The test users (through each app client), the callers who sign in."""
        return tuple(c for c in self.callers if not c.anonymous and not c.machine)

    @property
    def machines(self) -> tuple[Caller, ...]:
        """The machine clients, the callers with the client credentials grant."""
        return tuple(c for c in self.callers if c.machine)

    @property
    def other_token(self) -> TokenUse:
        """The token the API takes on group routes is ``token_use``; this one carries no group
        scope: 403 there, 200 on signed-in routes."""
        return self.token_use.other


def expected_status(access: RouteAccess | None, route_scopes: Collection[str],
                    token_scopes: Collection[str] | None) -> int:
    """What API Gateway answers. ``token_scopes``: the scopes of the token presented, valid for
    the route's authorizer; ``None``: no valid token (none at all, a tampered or expired one, or
    one of another issuer or audience).

    Public routes have no authorizer: 200 whatever the token. Otherwise no valid token is 401;
    signed-in routes take any valid token (200); group routes need one of their scopes: 200 with
    one, 403 without.
    """
    if access is RouteAccess.PUBLIC:
        return OK
    if token_scopes is None:
        return UNAUTHORIZED
    if access is RouteAccess.SIGNED_IN:
        return OK
    return OK if set(token_scopes) & set(route_scopes) else FORBIDDEN


def _accepts(route: m.Route, pool: m.Pool, client: m.Client) -> bool:
    """Whether the route's authorizer takes tokens of ``pool`` issued to ``client``."""
    authorizer = route.authorizer
    return authorizer is not None and authorizer.issuer == pool.issuer \
        and client.id in authorizer.audiences


def _placeholders(model: m.StackModel) -> dict[str, str]:
    """Client id -> how a plan shows it: ``<appClientId>`` when users sign in through one app
    client, else ``<clientId:NAME>``. Machine clients are in no group scope."""
    clients = [c for pool in model.pools for c in pool.user_clients]
    if len(clients) == 1:
        return {clients[0].id: CLIENT_ID_PLACEHOLDER}
    return {c.id: NAMED_CLIENT_PLACEHOLDER.format(c.name) for c in clients}


def _group_scopes(model: m.StackModel, shown: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Each group scope a pool's trigger grants -> (its group, how a plan shows it), for every
    group of the pool (and any a user is a member of) and every client users sign in through."""
    out = {}
    for pool in (p for p in model.pools if p.token_use):
        groups = dict.fromkeys([*(g.name for g in pool.groups),
                                *(g for user in pool.users for g in user.groups)])
        out.update({scope_name(g, c.id): (g, scope_name(g, shown.get(c.id, c.id)))
                    for g in groups for c in pool.user_clients})
    return out


@dataclass(frozen=True)
class _Caller:
    caller: Caller
    pool: m.Pool
    client: m.Client
    token_scopes: tuple[str, ...]


def build_matrix(model: m.StackModel, *, placeholders: bool = True) -> AccessMatrix:
    """The expected matrix of a stack's resources. ``placeholders``: show app client ids as
    ``<appClientId>`` (a plan, whose ids are the mocks' stand-ins)."""
    group_scopes = _group_scopes(model, _placeholders(model) if placeholders else {})
    grants = {scope: group for scope, (group, _) in group_scopes.items()}

    def show(scope: str) -> str:
        """A group scope as the plan shows it; any other scope as written."""
        return group_scopes[scope][1] if scope in group_scopes else scope

    api_routes = [(api, route) for api in model.apis for route in api.routes]
    keys = [route.key for _, route in api_routes]
    samples = sample_requests(list(dict.fromkeys(keys)))
    several_apis = len(model.apis) > 1
    routes: list[tuple[Route, m.Route]] = []
    for api, route in api_routes:
        if route.access is None or is_preflight_route(route.key, demands_token(route.access),
                                                      bool(api.cors_origins)):
            continue
        method, path, _ = samples[route.key]
        routes.append((Route(f"{api.name} {route.key}" if several_apis else route.key, method,
                             path, tuple(dict.fromkeys(grants[s] for s in route.scopes if s in grants)),
                             tuple(show(s) for s in route.scopes), route.access, route.urn,
                             tuple(s for s in route.scopes if s not in grants)), route))
    known: list[_Caller] = []  # users through each client, then machine clients
    for pool in model.pools:
        clients = pool.user_clients
        for user in pool.users:
            for client in clients:
                scopes = pool.scopes_of(user, client)
                name = user.username if len(clients) == 1 else f"{user.username} ({client.name})"
                if len(model.pools) > 1:
                    name = f"{pool.name}/{name}"
                header = authorization_header_bytes(pool.token_use or TokenUse.ID, user.username,
                                                    user.groups)
                known.append(_Caller(Caller(name, user.groups, tuple(show(s) for s in scopes),
                                            header, user.urn, client.urn, client=client.name),
                                     pool, client, scopes))
    for pool in model.pools:
        for client in pool.machine_clients:
            name = machine_caller(client.name if len(model.pools) == 1
                                  else f"{pool.name}/{client.name}")
            scopes = client.oauth_scopes  # no scope asked for: every one it may request
            known.append(_Caller(Caller(name, (), scopes, machine_header_bytes(scopes),
                                        None, client.urn, machine=True, client=client.name),
                                 pool, client, scopes))
    callers = [u.caller for u in known] + [Caller(ANONYMOUS, (), (), None)]
    cells = []
    for caller in known:
        for route, resource in routes:
            valid = resource.access is RouteAccess.PUBLIC or _accepts(resource, caller.pool,
                                                                      caller.client)
            status = expected_status(route.access, resource.scopes,
                                     caller.token_scopes if valid else None)
            matched = (tuple(show(s) for s in resource.scopes if s in caller.token_scopes)
                       if status == OK and route.access is RouteAccess.GROUPS else ())
            cells.append(Cell(caller.caller.name, route.key, status, matched))
    cells += [Cell(ANONYMOUS, route.key, expected_status(route.access, (), None), ())
              for route, _ in routes]
    plain_routes = [route for route, _ in routes]
    cors = next((api.cors_origins for api in model.apis if api.cors_origins), ())
    preflights = _preflights(plain_routes, keys) if cors else []
    group_names = [g.name for pool in model.pools if pool.token_use for g in pool.groups]
    warnings = findings(plain_routes, callers, cells, group_names, samples) + [
        Finding("preflight-refused", p.route, f"CORS preflights to {p.path} reach {p.answered_by},"
                " which demands a token: browsers will never send the real request")
        for p in preflights if p.status == UNAUTHORIZED]
    token_use = next((pool.token_use for pool in model.pools if pool.token_use), TokenUse.ID)
    stage = model.apis[0].stage_name if model.apis else ""
    return AccessMatrix(token_use, stage, tuple(plain_routes), tuple(callers), tuple(cells),
                        tuple(warnings), tuple(preflights), cors[0] if cors else None,
                        placeholders)


def _preflights(routes: Sequence[Route], keys: Sequence[str]) -> list[Preflight]:
    """Who answers the preflight of each route's request, by API Gateway's route selection over
    every route of the API (the public OPTIONS routes ``ScopedHttpApi`` adds among them)."""
    by_key = {route.key: route for route in routes}
    # The OPTIONS routes ScopedHttpApi adds answer 204 with its preflight function.
    added = set(preflight_route_keys({r.key: demands_token(r.access) for r in routes}))
    out = []
    for route in routes:
        if any(p.path == route.path and p.method == route.method for p in out):
            continue
        key = preflight_answerer(route.path, keys)
        if key is None:
            answered_by, status = API_GATEWAY, NO_CONTENT
        elif key in by_key:
            answered_by = key
            status = UNAUTHORIZED if demands_token(by_key[key].access) else None
        else:  # a preflight route: public, its function answers
            answered_by, status = key, NO_CONTENT if key in added else None
        out.append(Preflight(route.key, route.path, route.method, answered_by, status))
    return out


def findings(routes: Sequence[Route], callers: Sequence[Caller], cells: Sequence[Cell],
             groups: Sequence[str],
             samples: Mapping[str, tuple[str, str, bool]] | None = None) -> list[Finding]:
    """Routes nobody configured can call, users and machine clients who can call nothing,
    groups no route admits, machine scopes no machine client may request, tokens whose
    Authorization header comes near API Gateway's request size limit, routes that more
    specific routes shadow (no request reaches them, so ``verify`` cannot probe them), and
    public routes that take requests a protected route would otherwise answer."""
    users = [c for c in callers if not c.anonymous and not c.machine]
    machines = [c for c in callers if c.machine]
    admitted = {(c.caller, c.route) for c in cells if c.status == OK}
    shown = {route.key for route in routes}
    out = [Finding("route-shadowed", key, f"more specific routes take every request {key} "
                   f"matches that was tried; `jwt-scoped verify` will send {method} {path}, "
                   "which another route answers")
           for key, (method, path, own) in (samples or {}).items() if not own and key in shown]
    out += _public_over_protected(routes)
    group_routes = [r for r in routes if r.access is RouteAccess.GROUPS]
    if not users and not machines:
        out.append(Finding("no-users", "users", "no test users are configured: no route can be "
                           "called by a configured user, and `jwt-scoped verify` can only check "
                           "401s"))
    else:
        for route in group_routes:
            if not any((c.name, route.key) in admitted for c in [*users, *machines]):
                out.append(_nobody_can_call(route))
    requestable = {s for machine in machines for s in machine.scopes}
    for route in group_routes:
        missing = [s for s in route.machine_scopes if s not in requestable]
        if missing:
            out.append(Finding(
                "machine-scope-no-client-requests", route.key,
                f"{route.key} demands {_words(missing, 'and')}, which no machine client may "
                f"request: no token will hold {'it' if len(missing) == 1 else 'them'}"))
    for caller in [*users, *machines]:
        if not any((caller.name, r.key) in admitted for r in routes):
            if caller.machine:
                out.append(Finding("machine-can-call-nothing", caller.name,
                                   f"{caller.name} can call no route (scopes: "
                                   f"{', '.join(caller.scopes) or 'none'})"))
            else:
                groups_text = ", ".join(caller.groups) if caller.groups else "no group"
                out.append(Finding("user-can-call-nothing", caller.name,
                                   f"{caller.name} can call no route (groups: {groups_text})"))
    routed = {g for route in group_routes for g in route.groups}
    for group in dict.fromkeys(groups):
        if group not in routed:
            out.append(Finding("group-without-route", group,
                               f"group {group} is admitted by no route: its scope opens nothing"))
    for caller in [*users, *machines]:
        if caller.header_bytes >= HEADER_WARNING_BYTES:
            over = caller.header_bytes >= MAX_REQUEST_LINE_AND_HEADERS_BYTES
            why = (f"{len(caller.scopes)} scopes" if caller.machine else
                   f"{len(caller.groups)} groups in cognito:groups and scope")
            out.append(Finding("token-near-header-limit", caller.name,
                               f"{caller.name}'s Authorization header is about "
                               f"{caller.header_bytes:,} bytes ({why}): "
                               + ("over" if over else "near") +
                               f" API Gateway's {MAX_REQUEST_LINE_AND_HEADERS_BYTES:,}-byte limit "
                               "for the request line and all headers"))
    return out


def _words(items: Sequence[str], conjunction: str) -> str:
    return ", ".join(items[:-1]) + f" {conjunction} {items[-1]}" if len(items) > 1 else items[0]


def _nobody_can_call(route: Route) -> Finding:
    one = len(route.groups) == 1
    if not route.machine_scopes:
        return Finding("route-nobody-can-call", route.key,
                       f"no configured user can call {route.key}: it admits "
                       f"{route.admits or 'no group of the pool'}, and no user is in "
                       f"{'that group' if one else 'those groups'}")
    why = "no machine client may request " + (
        "that scope" if len(route.machine_scopes) == 1 else "those scopes")
    if route.groups:
        why = f"no user is in {'that group' if one else 'those groups'} and {why}"
    return Finding("route-nobody-can-call", route.key,
                   f"no configured caller can call {route.key}: it admits {route.admits}; {why}")


def _public_over_protected(routes: Sequence[Route]) -> list[Finding]:
    """A public route more specific than a protected one takes requests that route matches too:
    ``GET /admin/status`` (public) answers what ``GET /admin/{id}`` (admin) would, without a
    token. Judged on each public route's own sample request."""
    out = []
    for public in (r for r in routes if r.access is RouteAccess.PUBLIC):
        for other in routes:
            if other.access is not RouteAccess.PUBLIC and answering_route(
                    public.method, public.path, [other.key]) is not None:
                out.append(Finding(
                    "public-route-takes-protected-requests", public.key,
                    f"public {public.key} answers requests that {other.key} (admits "
                    f"{other.admits}) also matches, such as {public.method} {public.path}: "
                    "they need no token"))
    return out
