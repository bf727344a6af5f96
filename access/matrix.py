"""The expected access matrix of a stack config, and what a reviewer should be warned about. Pure.

For every configured user plus an anonymous caller, for every route: the status API Gateway's JWT
authorizer will answer with (see ``expected_status``) and the scopes involved. The app client id
exists only after deploy, so scopes show it as ``CLIENT_ID_PLACEHOLDER``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from jwt_scoped.cors import preflight_route_keys
from jwt_scoped.modes import RouteAccess, TokenUse
from jwt_scoped.route_keys import answering_route, sample_requests
from jwt_scoped.rules import MAX_REQUEST_LINE_AND_HEADERS_BYTES
from jwt_scoped.scope_format import scope_name
from program.stack import StackSettings

from .token_size import authorization_header_bytes

ANONYMOUS = "(anonymous)"
CLIENT_ID_PLACEHOLDER = "<appClientId>"
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

    @property
    def admits(self) -> str:
        """Whom the route admits, in words for a reviewer."""
        if self.access is RouteAccess.PUBLIC:
            return "everyone (public)"
        if self.access is RouteAccess.SIGNED_IN:
            return "any signed-in user"
        return ", ".join(self.groups)


@dataclass(frozen=True)
class Caller:
    name: str
    """Username, or ``ANONYMOUS``."""
    groups: tuple[str, ...]
    scopes: tuple[str, ...]
    """The scopes in the user's token (the trigger writes one per group)."""
    header_bytes: int | None
    """Estimated size of the user's ``Authorization`` header (see ``token_size``); None: anonymous."""

    @property
    def anonymous(self) -> bool:
        return self.header_bytes is None


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
                 "preflight-refused")


@dataclass(frozen=True)
class AccessMatrix:
    token_use: TokenUse
    stage_name: str
    routes: tuple[Route, ...]
    callers: tuple[Caller, ...]
    """Configured users in config order, then the anonymous caller."""
    cells: tuple[Cell, ...]
    """One per (caller, route): callers in order, each across the routes in order."""
    warnings: tuple[Finding, ...]
    preflights: tuple[Preflight, ...] = ()
    """With CORS configured: one per distinct route request, in route order."""
    cors_origin: str | None = None
    """The origin a preflight check sends (the first configured one); None: no CORS."""

    def cell(self, caller: str, route: str) -> Cell:
        for c in self.cells:
            if c.caller == caller and c.route == route:
                return c
        raise KeyError((caller, route))

    def route(self, key: str) -> Route:
        return next(r for r in self.routes if r.key == key)

    @property
    def users(self) -> tuple[Caller, ...]:
        return tuple(c for c in self.callers if not c.anonymous)

    @property
    def other_token(self) -> TokenUse:
        """The token the API takes on group routes is ``token_use``; this one carries no group
        scope: 403 there, 200 on signed-in routes."""
        return self.token_use.other


def expected_status(access: RouteAccess, route_groups: Collection[str],
                    token_groups: Collection[str] | None) -> int:
    """What API Gateway answers. ``token_groups``: the groups whose scopes the presented token
    carries; ``None``: no valid token (none at all, or a tampered or expired one).

    Public routes have no authorizer: 200 whatever the token. Otherwise no valid token is 401;
    signed-in routes take any valid token (200); group routes need a scope of one of their
    groups: 200 with one, 403 without.
    """
    if access is RouteAccess.PUBLIC:
        return OK
    if token_groups is None:
        return UNAUTHORIZED
    if access is RouteAccess.SIGNED_IN:
        return OK
    return OK if set(token_groups) & set(route_groups) else FORBIDDEN


def build_matrix(settings: StackSettings, client_id: str = CLIENT_ID_PLACEHOLDER) -> AccessMatrix:
    """The expected matrix of ``settings``; pass the real ``client_id`` once it is known."""
    samples = sample_requests([r.route for r in settings.routes])
    routes = [Route(r.route, samples[r.route][0], samples[r.route][1], tuple(r.groups or ()),
                    tuple(scope_name(g, client_id) for g in r.groups or ()), r.access)
              for r in settings.routes]
    callers = [Caller(u.username, tuple(u.groups), tuple(scope_name(g, client_id) for g in u.groups),
                      authorization_header_bytes(settings.token_use, u.username, u.groups))
               for u in settings.users]
    callers.append(Caller(ANONYMOUS, (), (), None))
    cells = []
    for caller in callers:
        for route in routes:
            status = expected_status(route.access, route.groups,
                                     None if caller.anonymous else caller.groups)
            matched = (tuple(s for s in route.scopes if s in caller.scopes)
                       if status == OK and route.access is RouteAccess.GROUPS else ())
            cells.append(Cell(caller.name, route.key, status, matched))
    preflights = _preflights(routes) if settings.cors_origins else []
    warnings = findings(settings, routes, callers, samples) + [
        Finding("preflight-refused", p.route, f"CORS preflights to {p.path} reach {p.answered_by},"
                " which demands a token: browsers will never send the real request")
        for p in preflights if p.status == UNAUTHORIZED]
    return AccessMatrix(settings.token_use, settings.stage_name, tuple(routes), tuple(callers),
                        tuple(cells), tuple(warnings), tuple(preflights),
                        settings.cors_origins[0] if settings.cors_origins else None)


def _preflights(routes: Sequence[Route]) -> list[Preflight]:
    """Who answers the preflight of each route's request: route selection over the configured
    routes plus the public OPTIONS routes ``ScopedHttpApi`` adds (``preflight_route_keys``)."""
    protected = {r.key: r.access is not RouteAccess.PUBLIC for r in routes}
    added = preflight_route_keys(protected)
    keys = [*protected, *added]
    out = []
    for route in routes:
        if any(p.path == route.path and p.method == route.method for p in out):
            continue
        key = answering_route("OPTIONS", route.path, keys)
        if key is None or key in added:
            answered_by, status = (API_GATEWAY if key is None else key), NO_CONTENT
        else:
            answered_by, status = key, (UNAUTHORIZED if protected[key] else None)
        out.append(Preflight(route.key, route.path, route.method, answered_by, status))
    return out


def findings(settings: StackSettings, routes: Sequence[Route], callers: Sequence[Caller],
             samples: dict[str, tuple[str, str, bool]] | None = None) -> list[Finding]:
    """Routes nobody configured can call, users who can call nothing, groups no route admits,
    tokens whose Authorization header comes near API Gateway's request size limit, routes that
    more specific routes shadow (no request reaches them, so ``verify`` cannot probe them), and
    public routes that take requests a protected route would otherwise answer."""
    users = [c for c in callers if not c.anonymous]
    out = [Finding("route-shadowed", key, f"more specific routes take every request {key} "
                   f"matches that was tried; `access verify` will send {method} {path}, which "
                   "another route answers")
           for key, (method, path, own) in (samples or {}).items() if not own]
    out += _public_over_protected(routes)
    group_routes = [r for r in routes if r.access is RouteAccess.GROUPS]
    if not users:
        out.append(Finding("no-users", "users", "no test users are configured: no route can be "
                           "called by a configured user, and `access verify` can only check 401s"))
    else:
        for route in group_routes:
            if not any(set(u.groups) & set(route.groups) for u in users):
                out.append(Finding("route-nobody-can-call", route.key,
                                   f"no configured user can call {route.key}: it admits "
                                   f"{', '.join(route.groups)}, and no user is in "
                                   f"{'that group' if len(route.groups) == 1 else 'those groups'}"))
    for user in users:
        if not any(expected_status(r.access, r.groups, user.groups) == OK for r in routes):
            groups = ", ".join(user.groups) if user.groups else "no group"
            out.append(Finding("user-can-call-nothing", user.name,
                               f"{user.name} can call no route (groups: {groups})"))
    routed = {g for route in group_routes for g in route.groups}
    for group in settings.groups:
        if group.name not in routed:
            out.append(Finding("group-without-route", group.name,
                               f"group {group.name} is admitted by no route: its scope opens "
                               "nothing"))
    for user in users:
        if user.header_bytes >= HEADER_WARNING_BYTES:
            over = user.header_bytes >= MAX_REQUEST_LINE_AND_HEADERS_BYTES
            out.append(Finding("token-near-header-limit", user.name,
                               f"{user.name}'s Authorization header is about "
                               f"{user.header_bytes:,} bytes ({len(user.groups)} groups in "
                               f"cognito:groups and scope): "
                               + ("over" if over else "near") +
                               f" API Gateway's {MAX_REQUEST_LINE_AND_HEADERS_BYTES:,}-byte limit "
                               "for the request line and all headers"))
    return out


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
