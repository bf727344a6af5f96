"""What changes between two access matrices (``before``: e.g. the base branch; ``after``: this
change). Pure.

Only what differs: cells whose status changes (for a caller and a route present on both sides),
routes and callers added or removed, routes whose access, groups or machine scopes change, users
whose groups change, machine clients whose scopes change, and a change of token use. Machine
clients are callers like users: a machine gaining or losing a route is a changed cell. Routes that
become public (new or changed) are listed on their own: they are the change a reviewer most needs
to see.
"""

from __future__ import annotations

from dataclasses import dataclass

from jwt_scoped.modes import RouteAccess

from .matrix import AccessMatrix, Caller, Route


@dataclass(frozen=True)
class CellChange:
    caller: str
    route: str
    before: int
    after: int


@dataclass(frozen=True)
class RouteChange:
    """A route on both sides whose access, groups (and so scopes) or machine scopes differ."""

    before: Route
    after: Route


@dataclass(frozen=True)
class UserChange:
    """A user on both sides whose groups differ, or a machine client whose scopes do."""

    before: Caller
    after: Caller


@dataclass(frozen=True)
class PlanDiff:
    before: AccessMatrix
    after: AccessMatrix
    changed: tuple[CellChange, ...]
    routes_added: tuple[Route, ...]
    routes_removed: tuple[Route, ...]
    routes_changed: tuple[RouteChange, ...]
    users_added: tuple[Caller, ...]
    users_removed: tuple[Caller, ...]
    users_changed: tuple[UserChange, ...]

    @property
    def now_public(self) -> tuple[Route, ...]:
        """Routes anyone may now call without a token that were not public before: added as
        public, or changed to public."""
        return (tuple(r for r in self.routes_added if r.access is RouteAccess.PUBLIC)
                + tuple(c.after for c in self.routes_changed
                        if c.after.access is RouteAccess.PUBLIC))

    @property
    def token_use_changed(self) -> bool:
        return self.before.token_use != self.after.token_use

    @property
    def is_empty(self) -> bool:
        return not (self.changed or self.routes_added or self.routes_removed or self.routes_changed
                    or self.users_added or self.users_removed or self.users_changed
                    or self.token_use_changed)


def diff_plans(before: AccessMatrix, after: AccessMatrix) -> PlanDiff:
    old_routes = {r.key: r for r in before.routes}
    new_routes = {r.key: r for r in after.routes}
    old_callers = {c.name: c for c in before.callers}
    new_callers = {c.name: c for c in after.callers}
    changed = []
    for cell in after.cells:
        if cell.caller in old_callers and cell.route in old_routes:
            was = before.cell(cell.caller, cell.route).status
            if was != cell.status:
                changed.append(CellChange(cell.caller, cell.route, was, cell.status))
    return PlanDiff(
        before=before, after=after, changed=tuple(changed),
        routes_added=tuple(r for k, r in new_routes.items() if k not in old_routes),
        routes_removed=tuple(r for k, r in old_routes.items() if k not in new_routes),
        routes_changed=tuple(RouteChange(old_routes[k], r) for k, r in new_routes.items()
                             if k in old_routes and _access(old_routes[k]) != _access(r)),
        users_added=tuple(c for n, c in new_callers.items() if n not in old_callers),
        users_removed=tuple(c for n, c in old_callers.items() if n not in new_callers),
        users_changed=tuple(UserChange(old_callers[n], c) for n, c in new_callers.items()
                            if n in old_callers and _holds(old_callers[n]) != _holds(c)),
    )


def _access(route: Route) -> tuple:
    return route.access, route.groups, route.machine_scopes


def _holds(caller: Caller) -> tuple[str, ...]:
    """What decides a caller's access: a user's groups, a machine's scopes (a user's scopes
    follow its groups, shown with placeholders that another client count renames)."""
    return caller.scopes if caller.machine else caller.groups


def callers_admitted(matrix: AccessMatrix, route: str) -> tuple[str, ...]:
    """Callers who get 200 on ``route`` (the anonymous caller too, on a public route)."""
    return tuple(c.caller for c in matrix.cells if c.route == route and c.status == 200)


def routes_callable(matrix: AccessMatrix, caller: str) -> tuple[str, ...]:
    """Routes on which ``caller`` gets 200."""
    return tuple(c.route for c in matrix.cells if c.caller == caller and c.status == 200)
