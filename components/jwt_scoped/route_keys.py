"""Route keys of HTTP APIs: ``$default`` or ``METHOD /path``, parsed and checked without AWS.

Source: API Gateway developer guide, "Working with routes for HTTP APIs" (methods, ``{param}``,
greedy ``{proxy+}`` as the last segment, the ``$default`` catch-all route).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .rules import DEFAULT, LAMBDA_DESCRIPTION_MAX

DEFAULT_ROUTE = DEFAULT
METHODS = ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")

# A literal segment, a {param} or, last only, a greedy {proxy+}.
_LITERAL = re.compile(r"^[A-Za-z0-9._~@:$&'()*+,;=!-]+$")
_PARAM = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}$")


@dataclass(frozen=True)
class RouteKey:
    """A parsed route key. ``method`` and ``path`` are ``None`` for ``$default``."""

    key: str
    method: str | None
    path: str | None

    @property
    def is_default(self) -> bool:
        return self.method is None

    def sample_path(self, value: str = "sample") -> str:
        """A concrete path that this route matches: each ``{param}`` becomes ``value``."""
        if self.path is None:
            return "/"
        return "/".join(value if _PARAM.match(seg) else seg for seg in self.path.split("/"))

    def sample_method(self) -> str:
        """A concrete HTTP method that this route matches (``ANY`` and ``$default`` take GET)."""
        return "GET" if self.method in (None, "ANY") else self.method


def route_key_problem(key: object) -> str | None:
    """Why ``key`` is not a valid HTTP API route key, or ``None`` when it is."""
    if not isinstance(key, str):
        return f"route key must be a string, got {key!r}"
    if key == DEFAULT_ROUTE:
        return None
    method, sep, path = key.partition(" ")
    if not sep:
        return f"route key {key!r} is not 'METHOD /path' (or {DEFAULT_ROUTE!r})"
    if method not in METHODS:
        return f"route key {key!r} has method {method!r}; expected one of {', '.join(METHODS)}"
    if not path.startswith("/"):
        return f"route key {key!r} has path {path!r}, which must start with '/'"
    if path == "/":
        return None
    segments = path[1:].split("/")
    names = []
    for i, seg in enumerate(segments):
        param = _PARAM.match(seg)
        if param:
            if param.group(2) and i != len(segments) - 1:
                return f"route key {key!r}: greedy {seg!r} must be the last path segment"
            names.append(param.group(1))
        elif not seg:
            return f"route key {key!r} has an empty path segment"
        elif not _LITERAL.match(seg):
            return f"route key {key!r} has path segment {seg!r} with characters API Gateway does not accept"
    if len(names) != len(set(names)):
        return f"route key {key!r} names a path parameter twice"
    return None


def parse_route_key(key: str) -> RouteKey:
    """Parse a route key, raising ``ValueError`` with the reason when it is invalid."""
    problem = route_key_problem(key)
    if problem:
        raise ValueError(problem)
    if key == DEFAULT_ROUTE:
        return RouteKey(key, None, None)
    method, _, path = key.partition(" ")
    return RouteKey(key, method, path)


@dataclass(frozen=True)
class RouteMatch:
    """The route that answers a request, and the path parameters it takes from the path."""

    key: str
    path_parameters: dict[str, str]


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _rank(route: RouteKey, method: str, path: str) -> tuple[tuple, dict[str, str]] | None:
    """How specifically ``route`` matches the request, and its path parameters; ``None`` when it
    does not match. Larger ranks win.

    API Gateway's priorities (developer guide, "Create routes for HTTP APIs", section "Routing
    API requests"): a full match of route and method, then a match with a greedy path variable
    (``{proxy+}``), then ``$default``. So the kind of match is compared first: a full match with
    path variables beats any greedy match. Among full matches a literal segment beats a
    ``{param}``, left to right; among greedy matches the longer matched prefix wins. ``ANY``
    "matches all methods that you haven't defined for a resource", so a named method beats
    ``ANY`` on the same path, and only there (it is compared last).
    """
    if route.is_default:
        return (0,), {}
    if route.method not in ("ANY", method):
        return None
    want = _segments(path)
    have = _segments(route.path)
    params: dict[str, str] = {}
    ranks = []
    for i, seg in enumerate(have):
        param = _PARAM.match(seg)
        if param and param.group(2):  # greedy: one or more remaining segments
            if len(want) <= i:
                return None
            params[param.group(1)] = "/".join(want[i:])
            return (1, len(ranks), tuple(ranks), route.method == method), params
        if i >= len(want) or (not param and seg != want[i]):
            return None
        if param:
            params[param.group(1)] = want[i]
        ranks.append(0 if param else 1)
    if len(have) != len(want):
        return None
    return (2, tuple(ranks), route.method == method), params


def select_route(method: str, path: str, route_keys: Sequence[str]) -> RouteMatch | None:
    """The route that answers ``method path`` among ``route_keys``, with its path parameters
    (``{proxy+}`` gives ``proxy``: the rest of the path); ``None``: no route matches (API Gateway
    answers 404 ``{"message":"Not Found"}``)."""
    best: tuple | None = None
    found: RouteMatch | None = None
    for key in route_keys:
        ranked = _rank(parse_route_key(key), method, path)
        if ranked is not None and (best is None or ranked[0] > best):
            best, found = ranked[0], RouteMatch(key, ranked[1])
    return found


def answering_route(method: str, path: str, route_keys: Sequence[str]) -> str | None:
    """The route key that answers ``method path`` among ``route_keys``; ``None``: no route
    (API Gateway answers 404)."""
    found = select_route(method, path, route_keys)
    return found.key if found else None


def sample_requests(route_keys: Sequence[str]) -> dict[str, tuple[str, str, bool]]:
    """For each route, a request (method, path) to call it with, and whether that request is
    answered by this route and no other: ``{param}`` values, and for ``ANY`` and ``$default`` the
    method and path, are chosen so that no more specific route takes the request."""
    out = {}
    for key in route_keys:
        route = parse_route_key(key)
        methods = [route.sample_method()] + (
            list(_OTHER_SAMPLE_METHODS) if route.method in (None, "ANY") else [])
        paths = ([f"/{v}" for v in ("", *_SAMPLE_VALUES)] if route.is_default
                 else [route.sample_path(v) for v in _SAMPLE_VALUES])
        candidates = [(m, p) for p in paths for m in methods]
        chosen = next((c for c in candidates if answering_route(*c, route_keys) == key), None)
        out[key] = (*(chosen or candidates[0]), chosen is not None)
    return out


_SAMPLE_VALUES = ("sample", "sample-1", "sample-2", "sample-3")
# Not OPTIONS: with CORS configured, API Gateway answers preflights itself.
_OTHER_SAMPLE_METHODS = ("HEAD", "POST", "PUT", "PATCH", "DELETE")


def describe_routes(route_keys: Sequence[str], limit: int = LAMBDA_DESCRIPTION_MAX) -> str:
    """``Serves GET /a, GET /b`` for a function's description, cut to ``limit`` characters
    with a count of the routes left out."""
    text = f"Serves {', '.join(route_keys)}"
    if len(text) <= limit:
        return text
    for shown in range(len(route_keys) - 1, -1, -1):
        rest = len(route_keys) - shown
        text = f"Serves {', '.join(route_keys[:shown])}{' and ' if shown else ''}{rest} more route" \
               f"{'s' if rest != 1 else ''}"
        if len(text) <= limit:
            return text
    return text[:limit]
