"""ARNs the local stand-ins compare: who may invoke a function, and which function a reference
names. Pure.

Sources: IAM User Guide, "ARN condition operators" (``ArnLike``: each of the six colon-separated
parts is compared on its own, ``*`` and ``?`` are wildcards within a part); Lambda API
reference, ``AddPermission`` / ``Invoke`` (``FunctionName`` is a name, a full ARN or a partial
ARN ``<account>:function:<name>``, optionally with ``:<qualifier>``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

ARN_PARTS = 6  # arn:partition:service:region:account:resource


@functools.lru_cache(maxsize=1024)
def _part_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                              for c in pattern) + r"\Z", re.DOTALL)


def arn_like(arn: str, pattern: str) -> bool:
    """IAM ``ArnLike``: ``pattern`` may use ``*`` and ``?`` within each colon-separated part;
    the resource part (the sixth) keeps its own colons and slashes."""
    have = arn.split(":", ARN_PARTS - 1)
    want = pattern.split(":", ARN_PARTS - 1)
    if len(have) != ARN_PARTS or len(want) != ARN_PARTS:
        return arn == pattern
    return all(_part_pattern(w).match(h) for h, w in zip(have, want, strict=True))


@dataclass(frozen=True)
class FunctionRef:
    """A function named by a permission, an integration or a trigger."""

    name: str
    account: str | None = None
    region: str | None = None
    qualifier: str | None = None


_FULL = re.compile(r"^arn:[^:]+:lambda:(?P<region>[^:]+):(?P<account>\d{12}):function:"
                   r"(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$")
_PARTIAL = re.compile(r"^(?P<account>\d{12}):function:(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$")
_NAME = re.compile(r"^(?P<name>[A-Za-z0-9_-]+)(?::(?P<qualifier>[^:]+))?$")
# An API Gateway integration URI for Lambda (or the function's ARN itself, which HTTP APIs take).
_INVOKE_URI = re.compile(r"^arn:[^:]+:apigateway:[^:]+:lambda:path/[^/]+/functions/(?P<arn>.+)"
                         r"/invocations$")


def function_ref(reference: str) -> FunctionRef | None:
    """The function ``reference`` names (name, full ARN or partial ARN), or ``None``."""
    for pattern in (_FULL, _PARTIAL, _NAME):
        match = pattern.match(reference)
        if match:
            parts = match.groupdict()
            return FunctionRef(parts["name"], parts.get("account"), parts.get("region"),
                               parts.get("qualifier"))
    return None


def integration_function(uri: str) -> FunctionRef | None:
    """The function an ``AWS_PROXY`` integration URI invokes, or ``None`` if it names none."""
    match = _INVOKE_URI.match(uri)
    return function_ref(match.group("arn") if match else uri)


def names_function(reference: FunctionRef, name: str, account: str, region: str) -> bool:
    """Whether ``reference`` names the unqualified function ``name`` of ``account``/``region``.
    A qualified reference (an alias or version) names that qualifier only; ``$LATEST`` is the
    unqualified function."""
    return (reference.name == name
            and reference.account in (None, account)
            and reference.region in (None, region)
            and reference.qualifier in (None, "$LATEST"))
