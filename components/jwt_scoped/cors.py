"""CORS for an HTTP API whose routes demand tokens. Pure: no Pulumi, no AWS.

API Gateway answers a browser's preflight (``OPTIONS`` with ``Origin`` and
``Access-Control-Request-Method``) itself only when no route matches the ``OPTIONS`` request.
A matching route runs its authorizer first, and a preflight carries no token, so an ``ANY``
route, an ``OPTIONS`` route or ``$default`` that demands a token answers every preflight it
catches with 401 and the browser never sends the real request. AWS's remedy: an ``OPTIONS``
route without authorization, integrated with a backend; API Gateway adds the configured CORS
headers to the integration's response. Sources: API Gateway developer guide, "Configure CORS
for HTTP APIs" (preflights, and "Configuring CORS for an HTTP API with a $default route and an
authorizer"), and "Create routes for HTTP APIs" (a named method beats ``ANY`` on its path).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .route_keys import answering_route, parse_route_key

PREFLIGHT_METHOD = "OPTIONS"


def cors_methods(route_keys: Sequence[str]) -> list[str]:
    """Methods a browser may use: the routes' own, or every method where a route takes any."""
    methods = {parse_route_key(key).method for key in route_keys}
    return ["*"] if methods & {None, "ANY"} else sorted(methods)


def preflight_route_keys(protected: Mapping[str, bool]) -> list[str]:
    """The public ``OPTIONS`` routes to add so that no preflight reaches a route that demands a
    token. ``protected`` maps each route key to whether it demands a token. An ``ANY`` route gets
    ``OPTIONS`` on its own path (more specific than ``ANY`` there); ``$default`` gets
    ``OPTIONS /{proxy+}`` and ``OPTIONS /`` (a greedy variable needs a segment). Keys the API
    already has are not added again."""
    wanted: list[str] = []
    for key, demands_token in protected.items():
        if not demands_token:
            continue
        route = parse_route_key(key)
        if route.is_default:
            wanted += [f"{PREFLIGHT_METHOD} /{{proxy+}}", f"{PREFLIGHT_METHOD} /"]
        elif route.method == "ANY":
            wanted.append(f"{PREFLIGHT_METHOD} {route.path}")
    return [key for key in dict.fromkeys(wanted) if key not in protected]


def preflight_problems(protected: Mapping[str, bool]) -> dict[str, str]:
    """Route key -> why it cannot be, with CORS on: an ``OPTIONS`` route that demands a token
    would answer every preflight to its path with 401."""
    return {key: f"{key} demands a token, so every CORS preflight to its path would get 401 "
                 "(browsers send preflights without one); make it public, or leave OPTIONS to "
                 "API Gateway by removing the route"
            for key, demands_token in protected.items()
            if demands_token and parse_route_key(key).method == PREFLIGHT_METHOD}


def preflight_answerer(path: str, route_keys: Sequence[str]) -> str | None:
    """The route that answers a browser's preflight (``OPTIONS path``) among ``route_keys``, by
    API Gateway's route selection; ``None``: no route matches, so API Gateway answers it itself
    (with the API's CORS headers, when it has a CORS configuration)."""
    return answering_route(PREFLIGHT_METHOD, path, route_keys)


def is_preflight_route(route_key: str, demands_token: bool, api_has_cors: bool) -> bool:
    """A public ``OPTIONS`` route of an API with CORS: it exists to answer preflights (as those
    ``ScopedHttpApi`` adds do), not to serve callers."""
    return api_has_cors and not demands_token and parse_route_key(route_key).method == PREFLIGHT_METHOD
