"""What the engine hands a policy, as plain values, and the stack graph as plain nodes.

During ``pulumi preview`` of a new stack, IDs, ARNs and everything derived from them are unknown.
pulumi-policy raises ``UnknownValueError`` when a policy reads such a value; ``plain`` turns each
one into ``UNKNOWN`` instead, so every decision says explicitly what it does with it. Relations
between resources (a route's API, a permission's function) come from the property dependencies
the engine records (URNs, known in a preview too) or, where a value is known, from the value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

from jwt_scoped import aws_types as t

_SENTINELS = frozenset({UNKNOWN_ARCHIVE_VALUE, UNKNOWN_ARRAY_VALUE, UNKNOWN_ASSET_VALUE,
                        UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_OBJECT_VALUE,
                        UNKNOWN_STRING_VALUE})


class _Unknown:
    """A value the engine cannot know yet (a preview of resources not yet created)."""

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise TypeError("an unknown value has no truth value: test `is UNKNOWN` first")


UNKNOWN: Any = _Unknown()


def plain(value: Any) -> Any:
    """``value`` (pulumi-policy's proxies, or plain data holding the engine's unknown sentinels)
    as dicts, lists and scalars, with ``UNKNOWN`` for every unknown value."""
    if isinstance(value, str):
        return UNKNOWN if value in _SENTINELS else value
    if isinstance(value, Mapping):
        out = {}
        for key in value:
            try:
                out[key] = plain(value[key])
            except UnknownValueError:
                out[key] = UNKNOWN
        return out
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        items = []
        for i in range(len(value)):
            try:
                items.append(plain(value[i]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def dig(props: Any, *path: str) -> Any:
    """``props[path[0]][path[1]]...``: ``None`` when a step is missing, ``UNKNOWN`` when a step
    is unknown."""
    for key in path:
        if props is UNKNOWN:
            return UNKNOWN
        if not isinstance(props, Mapping) or props.get(key) is None:
            return None
        props = props[key]
    return props


def is_set(value: Any) -> bool:
    """Whether a property holds a value (or one not known yet): not missing, null or empty text,
    which is how a resource's state may show an unset string."""
    return value is UNKNOWN or value not in (None, "")


@dataclass(frozen=True)
class Node:
    """One resource of the stack, as plain values."""

    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    """Properties (camelCase), ``UNKNOWN`` where the engine cannot know them yet."""
    dependencies: frozenset[str] = frozenset()
    """URNs of every resource this one depends on."""
    property_dependencies: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Property name -> URNs of the resources its value came from."""
    parent: str | None = None

    def get(self, *path: str) -> Any:
        return dig(self.props, *path)


def of_type(nodes: Iterable[Node], typ: str) -> list[Node]:
    return [n for n in nodes if n.type == typ]


def stack_urn(nodes: Iterable[Node]) -> str | None:
    """URN of the stack resource: where findings about the stack as a whole are reported."""
    return next((n.urn for n in nodes if n.type == t.STACK), None)


# The properties a resource is known by, in the order a reference most often uses them.
_IDENTITIES = ("id", "arn", "name", "executionArn", "invokeArn")


def identities(node: Node) -> set[str]:
    """The known values other resources may use to refer to ``node`` (ID, ARN, name, ...).
    Log group ARNs are compared without their ``:*`` suffix."""
    found = {node.props.get(k) for k in _IDENTITIES}
    return {_normal(v) for v in found if isinstance(v, str) and v}


def _normal(value: str) -> str:
    return value.removesuffix(":*")


_MISSING: Any = object()


def refers_to(node: Node, prop: str, target: Node, value: Any = _MISSING) -> bool:
    """Whether ``node``'s property ``prop`` refers to ``target``: its value came from ``target``
    (the engine's property dependencies: known in a preview too), or ``value`` (default: the
    property's own value; pass a nested one) is one of ``target``'s known identities."""
    if target.urn in node.property_dependencies.get(prop, ()):
        return True
    if value is _MISSING:
        value = node.props.get(prop)
    return isinstance(value, str) and bool(value) and _normal(value) in identities(target)


def referenced(node: Node, prop: str, candidates: Iterable[Node], value: Any = _MISSING) -> list[Node]:
    """The ``candidates`` that ``node``'s property ``prop`` refers to (see ``refers_to``)."""
    return [c for c in candidates if refers_to(node, prop, c, value)]


@dataclass(frozen=True)
class Finding:
    """A violation: the resource it names and why."""

    urn: str | None
    message: str
