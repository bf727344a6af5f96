"""Route keys of HTTP APIs: ``$default`` or ``METHOD /path``, parsed and checked without AWS.

Source: API Gateway developer guide, "Working with routes for HTTP APIs" (methods, ``{param}``,
greedy ``{proxy+}`` as the last segment, the ``$default`` catch-all route).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_ROUTE = "$default"
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
