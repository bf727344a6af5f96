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


# Pre Token Generation event versions (Cognito developer guide, "Pre token generation Lambda
# trigger"): V1_0 customises the ID token on every feature plan; V2_0 also customises the access
# token and needs the Essentials or Plus plan.
TRIGGER_VERSIONS = {TokenUse.ID: "V1_0", TokenUse.ACCESS: "V2_0"}
# The feature plan each needs, set explicitly: AWS gives a new pool Essentials by default
# (Cognito developer guide, "User pool feature plans"); Lite costs least and runs V1_0 triggers.
# Both switch in place (UpdateUserPool takes UserPoolTier and LambdaConfig), users untouched.
FEATURE_PLANS = {TokenUse.ID: "LITE", TokenUse.ACCESS: "ESSENTIALS"}


def token_use_of(lambda_version: object) -> TokenUse | None:
    """Which token a pool's trigger writes the scopes into, from its ``LambdaVersion``."""
    return next((use for use, version in TRIGGER_VERSIONS.items() if version == lambda_version),
                None)


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


# API Gateway's route authorization types (CreateRoute AuthorizationType): NONE is its default.
NO_AUTHORIZATION, JWT_AUTHORIZATION = "NONE", "JWT"


def demands_token(access: RouteAccess) -> bool:
    """Whether a route of this access runs the JWT authorizer, so a request without a valid token
    gets 401 (and a CORS preflight, which carries none, is refused)."""
    return RouteAccess(access) is not RouteAccess.PUBLIC


def route_access(authorization_type: object, has_authorizer: bool, scopes: object) -> RouteAccess | None:
    """A deployed route's access, read back from its resource: ``NONE`` (or unset: AWS's default)
    without an authorizer or scopes is public; ``JWT`` with an authorizer is signed-in without
    scopes and ``groups`` with them. ``None``: any other combination (another authorizer type,
    scopes that no authorizer checks). ``scopes`` that are not a list or tuple (a value a preview
    does not know yet) count as some."""
    known_none = isinstance(scopes, (list, tuple)) and not scopes or scopes is None
    if authorization_type in (None, NO_AUTHORIZATION):
        return RouteAccess.PUBLIC if not has_authorizer and known_none else None
    if authorization_type == JWT_AUTHORIZATION and has_authorizer:
        return RouteAccess.SIGNED_IN if known_none else RouteAccess.GROUPS
    return None


# Cognito app clients (CreateUserPoolClient): the OAuth grants of AllowedOAuthFlows, and the
# explicit auth flows. With ExplicitAuthFlows empty, Cognito allows DEFAULT_AUTH_FLOWS.
CODE_GRANT, IMPLICIT_GRANT, CLIENT_CREDENTIALS = "code", "implicit", "client_credentials"
USER_GRANTS = (CODE_GRANT, IMPLICIT_GRANT)
"""The grants that sign a person in."""
REFRESH_TOKEN_AUTH = "ALLOW_REFRESH_TOKEN_AUTH"
DEFAULT_AUTH_FLOWS = ("ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH", REFRESH_TOKEN_AUTH)
USER_AUTH_FLOWS = ("ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", REFRESH_TOKEN_AUTH)
"""A people's client's flows: password and SRP sign-in, and refresh."""
MACHINE_AUTH_FLOWS = (REFRESH_TOKEN_AUTH,)
"""A machine client's: the one flow that signs nobody in (an empty list would allow SRP)."""
