"""The expected access matrix of a stack config, and what a reviewer should be warned about. Pure.

For every configured user plus an anonymous caller, for every route: the status API Gateway's JWT
authorizer will answer with (see ``expected_status``) and the scopes involved. The app client id
exists only after deploy, so scopes show it as ``CLIENT_ID_PLACEHOLDER``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from components.route_keys import sample_requests
from components.rules import MAX_REQUEST_LINE_AND_HEADERS_BYTES
from components.scope_format import scope_name
from components.settings import Settings

from .token_size import authorization_header_bytes

ANONYMOUS = "(anonymous)"
CLIENT_ID_PLACEHOLDER = "<appClientId>"
UNAUTHORIZED, FORBIDDEN, OK = 401, 403, 200
# Warn when the estimated Authorization header alone takes this share of the 10,240 bytes: the
# request line, Host, User-Agent, cookies and any other header need the rest.
HEADER_WARNING_SHARE = 0.75
HEADER_WARNING_BYTES = int(MAX_REQUEST_LINE_AND_HEADERS_BYTES * HEADER_WARNING_SHARE)


@dataclass(frozen=True)
class Route:
    key: str
    """The route key, ``GET /AdminUser`` or ``$default``."""
    method: str
    """The method of a request that this route answers (see ``sample_requests``)."""
    path: str
    """The path of that request (``{param}`` values chosen so no other route takes it)."""
    groups: tuple[str, ...]
    """Groups the route admits; any one will do."""
    scopes: tuple[str, ...]
    """The scopes the route demands (any one), client id as the placeholder."""


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
    """The caller's scopes that the route accepts: why a 200 is a 200 (empty otherwise)."""


@dataclass(frozen=True)
class Finding:
    """A warning for the reviewer. ``kind`` is one of ``WARNING_KINDS``."""

    kind: str
    subject: str
    message: str


WARNING_KINDS = ("no-users", "route-nobody-can-call", "user-can-call-nothing", "group-without-route",
                 "token-near-header-limit", "route-shadowed")


@dataclass(frozen=True)
class AccessMatrix:
    token_use: str
    stage_name: str
    routes: tuple[Route, ...]
    callers: tuple[Caller, ...]
    """Configured users in config order, then the anonymous caller."""
    cells: tuple[Cell, ...]
    """One per (caller, route): callers in order, each across the routes in order."""
    warnings: tuple[Finding, ...]

    def cell(self, caller: str, route: str) -> Cell:
        for c in self.cells:
            if c.caller == caller and c.route == route:
                return c
        raise KeyError((caller, route))

    @property
    def users(self) -> tuple[Caller, ...]:
        return tuple(c for c in self.callers if not c.anonymous)


def expected_status(caller_groups: Collection[str] | None, route_groups: Collection[str]) -> int:
    """What the JWT authorizer answers: no token (``None``) 401; a valid token holding the scope of
    at least one of the route's groups 200; a valid token without one 403."""
    if caller_groups is None:
        return UNAUTHORIZED
    return OK if set(caller_groups) & set(route_groups) else FORBIDDEN


def build_matrix(settings: Settings, client_id: str = CLIENT_ID_PLACEHOLDER) -> AccessMatrix:
    """The expected matrix of ``settings``; pass the real ``client_id`` once it is known."""
    samples = sample_requests([r.route for r in settings.routes])
    routes = [Route(r.route, samples[r.route][0], samples[r.route][1], r.groups,
                    tuple(scope_name(g, client_id) for g in r.groups)) for r in settings.routes]
    callers = [Caller(u.username, u.groups, tuple(scope_name(g, client_id) for g in u.groups),
                      authorization_header_bytes(settings.token_use, u.username, u.groups))
               for u in settings.users]
    callers.append(Caller(ANONYMOUS, (), (), None))
    cells = []
    for caller in callers:
        for route in routes:
            status = expected_status(None if caller.anonymous else caller.groups, route.groups)
            matched = tuple(s for s in route.scopes if s in caller.scopes) if status == OK else ()
            cells.append(Cell(caller.name, route.key, status, matched))
    return AccessMatrix(settings.token_use, settings.stage_name, tuple(routes), tuple(callers),
                        tuple(cells), tuple(findings(settings, routes, callers, samples)))


def findings(settings: Settings, routes: Sequence[Route], callers: Sequence[Caller],
             samples: dict[str, tuple[str, str, bool]] | None = None) -> list[Finding]:
    """Routes nobody configured can call, users who can call nothing, groups no route admits,
    tokens whose Authorization header comes near API Gateway's request size limit, and routes that
    more specific routes shadow (no request reaches them, so ``verify`` cannot probe them)."""
    users = [c for c in callers if not c.anonymous]
    out = [Finding("route-shadowed", key, f"more specific routes take every request {key} "
                   f"matches that was tried; `access verify` will send {method} {path}, which "
                   "another route answers")
           for key, (method, path, own) in (samples or {}).items() if not own]
    if not users:
        out.append(Finding("no-users", "users", "no test users are configured: no route can be "
                           "called by a configured user, and `access verify` can only check 401s"))
    else:
        for route in routes:
            if not any(set(u.groups) & set(route.groups) for u in users):
                out.append(Finding("route-nobody-can-call", route.key,
                                   f"no configured user can call {route.key}: it admits "
                                   f"{', '.join(route.groups)}, and no user is in "
                                   f"{'that group' if len(route.groups) == 1 else 'those groups'}"))
    for user in users:
        if not any(set(user.groups) & set(route.groups) for route in routes):
            groups = ", ".join(user.groups) if user.groups else "no group"
            out.append(Finding("user-can-call-nothing", user.name,
                               f"{user.name} can call no route (groups: {groups})"))
    routed = {g for route in routes for g in route.groups}
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
