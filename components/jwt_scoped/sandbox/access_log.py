"""Access log lines in the stage's own format. Pure.

Source: API Gateway developer guide, "Customize HTTP API access logs": the format holds
``$context.<variable>`` references; each is replaced by its value for the request, ``-`` when
it has none. Values are JSON-escaped, so a format that is a JSON document stays one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_:-]+)*)")


def _text(value: Any) -> str:
    if value is None or value == "":
        return "-"
    return json.dumps(str(value))[1:-1]


def render(log_format: str, variables: Mapping[str, Any]) -> str:
    """``log_format`` with its ``$context`` variables filled from ``variables`` (keyed without
    the ``$context.`` prefix, e.g. ``requestId``, ``authorizer.claims.sub``)."""
    return _VARIABLE.sub(lambda m: _text(variables.get(m.group(1))), log_format)
