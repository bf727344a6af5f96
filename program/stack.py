"""What a stack of this program is: the components' args as its config sets them, and its routes.

The routes are the program's own: each names a function folder under ``functions/`` and the
groups (of the identity pool) it admits; ``__main__.py`` turns them into the API's
``ApiRoute``s once the pool's scopes exist. Everything else is the components' own args, with
their defaults and rules (``jwt_scoped.model``).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jwt_scoped import builtin_functions
from jwt_scoped import rules as r
from jwt_scoped.http_api import ScopedHttpApiArgs
from jwt_scoped.identity_pool import ScopedIdentityPoolArgs
from jwt_scoped.model import Problem, default_of, rules
from jwt_scoped.modes import RouteAccess, TokenUse, choice_problem
from jwt_scoped.route_keys import route_key_problem
from jwt_scoped.specs import GroupSpec, UserSpec

FUNCTION_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


def function_name_problem(value: object) -> str | None:
    """A route's function: a folder name under ``functions/``, not one of the components' own."""
    if isinstance(value, str) and value in builtin_functions.ROLES:
        return f"{value!r} is {builtin_functions.ROLES[value]} of the components, not a route handler"
    if not isinstance(value, str) or not value or not set(value) <= FUNCTION_NAME_CHARS:
        return f"function {value!r} is not a folder name of lowercase letters, digits and underscores"
    return None


@dataclass(frozen=True, kw_only=True)
class RouteSpec:
    """A route of the program's API."""

    route: str = field(metadata=rules(check=route_key_problem))
    """``METHOD /path`` (ANY, DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT; ``{param}``, a final
    ``{proxy+}``) or ``$default``."""
    function: str = field(metadata=rules(check=function_name_problem))
    """A folder under ``functions/`` with a ``handler.py``; routes may share one."""
    access: RouteAccess | None = field(default=RouteAccess.GROUPS, metadata=rules(
        check=lambda v: choice_problem(RouteAccess, "access", v)))
    """``public`` (anyone, no token), ``signed-in`` (any valid token) or ``groups``."""
    groups: Sequence[str] | None = field(default=None, metadata=rules(
        count=(1, r.MAX_SCOPES_PER_ROUTE), unique=(lambda g: g, "group"), why=r.SCOPES_QUOTA))
    """With ``groups`` access: 1-10 groups, and any one admits the caller (API Gateway takes
    10 scopes per route). Refused with the other two."""

    def cross_problems(self) -> list[Problem]:
        """Groups go with group access, and only with it."""
        if self.access == RouteAccess.GROUPS and self.groups is None:
            return [Problem("", "missing 'groups' (the groups that may call it); or set access: "
                                "public (no token needed) or access: signed-in (any valid token)")]
        if self.access in (RouteAccess.PUBLIC, RouteAccess.SIGNED_IN) and self.groups is not None:
            everyone = "everyone" if self.access == RouteAccess.PUBLIC else "every signed-in user"
            return [Problem("groups", f"a route with access {str(self.access)!r} admits "
                                      f"{everyone}: remove its groups, or use access 'groups' to "
                                      "admit only them")]
        return []


def _route_of(route: Any) -> str | None:
    return route.route if isinstance(getattr(route, "route", None), str) else None


@dataclass(frozen=True, kw_only=True)
class ProgramArgs:
    """The program's own settings, beside the components' args."""

    routes: Sequence[RouteSpec] = field(metadata=rules(
        count=(1, r.MAX_ROUTES_PER_API), unique=(_route_of, "route"), why=r.ROUTES_QUOTA))
    """The API's routes: 1 to 300."""


@dataclass(frozen=True)
class StackSettings:
    """A stack's validated config: the identity pool's args, the API's options and the
    routes. ``api`` holds only the ``ScopedHttpApiArgs`` fields the config sets; ``__main__.py``
    passes it through with the wiring (issuer, audiences, functions, routes)."""

    identity: ScopedIdentityPoolArgs
    program: ProgramArgs
    api: Mapping[str, Any] = field(default_factory=dict)

    @property
    def routes(self) -> tuple[RouteSpec, ...]:
        return tuple(self.program.routes)

    @property
    def groups(self) -> tuple[GroupSpec, ...]:
        return tuple(self.identity.groups)

    @property
    def users(self) -> tuple[UserSpec, ...]:
        return tuple(self.identity.users or ())

    @property
    def token_use(self) -> TokenUse:
        return TokenUse(self.identity.token_use)

    def api_option(self, name: str) -> Any:
        """An API option as the stack sets it, else the component's default."""
        return self.api[name] if name in self.api else default_of(ScopedHttpApiArgs, name)

    @property
    def stage_name(self) -> str:
        return self.api_option("stage_name")

    @property
    def cors_origins(self) -> tuple[str, ...]:
        return tuple(self.api_option("cors_origins"))

    @property
    def functions(self) -> tuple[str, ...]:
        """Distinct route functions, in order of first use."""
        return tuple(dict.fromkeys(route.function for route in self.routes))

