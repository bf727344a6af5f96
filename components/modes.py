"""The project's two choices of mode, each an enumeration defined once. Pure: no Pulumi, no AWS.

Both are ``StrEnum``: a member equals its config spelling (``TokenUse.ACCESS == "access"``), so
config values, JSON documents and stack outputs carry the plain word. Each member's docstring
describes it in the component package's schema.
"""

from enum import StrEnum


class TokenUse(StrEnum):
    """Which Cognito token carries the group scopes, and so which token the API admits on group
    routes. API Gateway's JWT authorizer cannot tell the two apart, so the scopes go into one
    token only (Cognito developer guide, "Pre token generation Lambda trigger")."""

    ID = "id"
    """The ID token's ``scope`` claim (trigger event V1_0: every feature plan, Lite included)."""
    ACCESS = "access"
    """The access token's scopes (trigger event V2_0: Essentials or Plus plan)."""

    @property
    def other(self) -> "TokenUse":
        """The token that carries no group scope: refused (403) on group routes."""
        return TokenUse.ACCESS if self is TokenUse.ID else TokenUse.ID


class RouteAccess(StrEnum):
    """Who may call a route."""

    PUBLIC = "public"
    """Anyone, with or without a token: the route has no authorizer."""
    SIGNED_IN = "signed-in"
    """Anyone with a valid token of the pool's app client (ID or access token), no scope needed."""
    GROUPS = "groups"
    """Members of at least one of the route's groups: the token must hold one of their scopes."""


def choice_problem(enum: type[StrEnum], what: str, value: object) -> str | None:
    """Why ``value`` is not one of ``enum``'s words, or ``None``."""
    if isinstance(value, str) and value in {m.value for m in enum}:
        return None
    return f"unknown {what} {value!r}; expected one of {', '.join(m.value for m in enum)}"
