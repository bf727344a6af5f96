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


def hosted_ui_url(domain: str, pool_id: str, client_id: str, redirect_uri: str) -> str:
    """The authorization-code sign-in page of the Cognito prefix domain."""
    query = urlencode({"client_id": client_id, "response_type": "code",
                       "scope": " ".join(OAUTH_SCOPES), "redirect_uri": redirect_uri})
    return f"https://{domain}.auth.{region_of_pool(pool_id)}.amazoncognito.com/oauth2/authorize?{query}"


def default_domain_base(project: str, stack: str, max_length: int = 54) -> str:
    """A valid domain-prefix start from project and stack names (a random suffix follows):
    lowercase, hyphens for other characters, reserved words removed, at most ``max_length``."""
    text = f"{project}-{stack}".lower()
    for word in rules.RESERVED_DOMAIN_WORDS:
        text = text.replace(word, "-")
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:max_length].strip("-")
    return text or "auth"
