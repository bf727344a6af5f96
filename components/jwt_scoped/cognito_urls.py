"""Cognito names and URLs derived from resource outputs. Pure: no Pulumi, no AWS calls."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from . import rules

OAUTH_SCOPES = ("phone", "email", "openid", "profile")


def issuer_url(endpoint: str) -> str:
    """The pool's ``endpoint`` output is ``cognito-idp.<region>.amazonaws.com/<poolId>``, without
    a scheme; the ``iss`` claim (and the JWT authorizer's issuer) is that URL over https."""
    return endpoint if endpoint.startswith("https://") else f"https://{endpoint}"


def region_of_pool(pool_id: str) -> str:
    """User pool IDs are ``<region>_<id>``; the region is never typed by hand."""
    region, sep, _ = pool_id.partition("_")
    if not sep or not region:
        raise ValueError(f"user pool id {pool_id!r} is not '<region>_<id>'")
    return region


# The user pool endpoints a domain serves (Cognito developer guide, "User pool endpoints and
# managed login reference"). The paths are Cognito's, case included (``userInfo``).
AUTHORIZE_PATH = "/oauth2/authorize"
LOGIN_PATH = "/login"
TOKEN_PATH = "/oauth2/token"
USERINFO_PATH = "/oauth2/userInfo"
REVOKE_PATH = "/oauth2/revoke"
LOGOUT_PATH = "/logout"
DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks.json"


def domain_url(domain: str, region: str) -> str:
    """The base URL of a Cognito prefix domain: ``https://<prefix>.auth.<region>.amazoncognito.com``."""
    return f"https://{domain}.auth.{region}.amazoncognito.com"


def sign_in_url(base: str, client_id: str, redirect_uri: str,
                scopes: tuple[str, ...] = OAUTH_SCOPES, **extra: str) -> str:
    """The code-grant sign-in URL (the authorize endpoint) of the domain at ``base``."""
    query = urlencode({"client_id": client_id, "response_type": "code",
                       "scope": " ".join(scopes), "redirect_uri": redirect_uri, **extra})
    return f"{base}{AUTHORIZE_PATH}?{query}"


def hosted_ui_url(domain: str, pool_id: str, client_id: str, redirect_uri: str) -> str:
    """The authorization-code sign-in page of the Cognito prefix domain."""
    return sign_in_url(domain_url(domain, region_of_pool(pool_id)), client_id, redirect_uri)


def openid_configuration(issuer: str, jwks_uri: str, domain_base: str | None) -> dict:
    """A user pool's OpenID Connect discovery document (``<issuer>/.well-known/openid-configuration``)
    as Cognito publishes it: the keys and, when the pool has a domain, its endpoints."""
    document = {"issuer": issuer, "jwks_uri": jwks_uri,
                "id_token_signing_alg_values_supported": ["RS256"],
                "subject_types_supported": ["public"],
                "scopes_supported": ["openid", "email", "phone", "profile"]}
    if domain_base is not None:
        document |= {
            "authorization_endpoint": domain_base + AUTHORIZE_PATH,
            "token_endpoint": domain_base + TOKEN_PATH,
            "userinfo_endpoint": domain_base + USERINFO_PATH,
            "revocation_endpoint": domain_base + REVOKE_PATH,
            "end_session_endpoint": domain_base + LOGOUT_PATH,
            "response_types_supported": ["code", "token"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
            "code_challenge_methods_supported": ["S256"]}
    return document


def default_domain_base(project: str, stack: str, max_length: int = 54) -> str:
    """A valid domain-prefix start from project and stack names (a random suffix follows):
    lowercase, hyphens for other characters, reserved words removed, at most ``max_length``."""
    text = f"{project}-{stack}".lower()
    for word in rules.RESERVED_DOMAIN_WORDS:
        text = text.replace(word, "-")
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:max_length].strip("-")
    return text or "auth"
