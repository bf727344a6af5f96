"""CORS as an HTTP API with a ``corsConfiguration`` answers it. Pure.

Source: API Gateway developer guide, "Configure CORS for HTTP APIs": API Gateway answers a
preflight ``OPTIONS`` request itself only when no route matches it (an ``ANY``, ``OPTIONS`` or
``$default`` route that matches is invoked instead); it adds the configured CORS headers to
every response, including the integration's, and ignores CORS headers the integration returns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .apis import Cors

PREFLIGHT_STATUS = 204
_HEADERS = "access-control-"


def origin_allowed(cors: Cors, origin: str) -> bool:
    """``*`` allows any origin; an allowed origin may hold ``*`` wildcards
    (``https://*.example.com``)."""
    for allowed in cors.allow_origins:
        if allowed == "*":
            return True
        pattern = "".join(".*" if c == "*" else re.escape(c) for c in allowed.lower())
        if re.fullmatch(pattern, origin.lower()):
            return True
    return False


def _allow_origin(cors: Cors, origin: str) -> str:
    return "*" if "*" in cors.allow_origins and not cors.allow_credentials else origin


def response_headers(cors: Cors, request_headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """The CORS headers of an actual (not preflight) response; none without an allowed
    ``Origin``."""
    origin = request_headers.get("origin")
    if not origin or not origin_allowed(cors, origin):
        return []
    out = [("access-control-allow-origin", _allow_origin(cors, origin))]
    if cors.allow_credentials:
        out.append(("access-control-allow-credentials", "true"))
    if cors.expose_headers:
        out.append(("access-control-expose-headers", ",".join(cors.expose_headers)))
    return out


def preflight_headers(cors: Cors, request_headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """The headers of the gateway's own answer to a preflight."""
    out = response_headers(cors, request_headers)
    if not out:
        return []
    if cors.allow_methods:
        out.append(("access-control-allow-methods", ",".join(cors.allow_methods)))
    if cors.allow_headers:
        out.append(("access-control-allow-headers", ",".join(cors.allow_headers)))
    if cors.max_age is not None:
        out.append(("access-control-max-age", str(cors.max_age)))
    return out


def without_cors_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The integration's headers minus its own CORS headers, which API Gateway ignores."""
    return [(k, v) for k, v in headers if not k.lower().startswith(_HEADERS)]
