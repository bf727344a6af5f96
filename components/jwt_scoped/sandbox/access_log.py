"""Access log lines in the stage's own format. Pure.

Source: API Gateway developer guide, "Customize HTTP API access logs": the format holds
``$context.<variable>`` references; each is replaced by its value for the request, ``-`` when
it has none. Values are JSON-escaped, so a format that is a JSON document stays one.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any

_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_:-]+)*)")


def _text(value: Any) -> str:
    if value is None or value == "":
        return "-"
    return json.dumps(str(value))[1:-1]


@functools.lru_cache(maxsize=16)
def _parts(log_format: str) -> tuple[tuple[str, str | None], ...]:
    """The format as (literal text, variable or None) pairs, parsed once per format."""
    parts, at = [], 0
    for match in _VARIABLE.finditer(log_format):
        parts.append((log_format[at:match.start()], match.group(1)))
        at = match.end()
    parts.append((log_format[at:], None))
    return tuple(parts)


def render(log_format: str, variables: Mapping[str, Any]) -> str:
    """``log_format`` with its ``$context`` variables filled from ``variables`` (keyed without
    the ``$context.`` prefix, e.g. ``requestId``, ``authorizer.claims.sub``)."""
    return "".join(literal + (_text(variables.get(name)) if name is not None else "")
                   for literal, name in _parts(log_format))
