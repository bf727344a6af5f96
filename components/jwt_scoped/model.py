"""The args model: every default and every rule is stated once, on the args dataclasses.

Args are frozen, keyword-only dataclasses. A field's default is its dataclass default; its rules
travel in the field's metadata (``rules(...)``); a rule that spans fields is the class's
``cross_problems`` method. ``problems_of`` applies them all and reports every problem at once as
``Problem(path, message)``, where ``path`` is the field path (``groups[2].precedence``). The stack
config of the program maps its keys onto these fields and reuses the same rules, so a value is
judged the same way whether it comes from Python, from another Pulumi language or from a stack
file. Values still unknown (``pulumi.Output``) are skipped: they are judged by AWS at deploy time.

No ``from __future__ import annotations`` here or in the args modules: Pulumi's component
analyzer (``pulumi.provider.experimental``) reads the annotations as objects.
"""

import ast
import dataclasses
import enum
import inspect
import reprlib
import textwrap
import types
import typing
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pulumi

Check = Callable[[Any], str | None]

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 80
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 6
_REPR.maxlevel = 3


def shown(value: Any) -> str:
    """``repr(value)`` cut to a readable length: a message names a bad value, it does not repeat
    five megabytes of it."""
    return _REPR.repr(value)


@dataclasses.dataclass(frozen=True)
class Problem:
    """Why a value cannot be deployed, and where it is (a field path; empty for the whole)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclasses.dataclass(frozen=True)
class FieldRules:
    check: Check | None = None
    """Judges the value (when it is set and known)."""
    each: Check | None = None
    """Judges each item of a sequence (problems at ``path[i]``)."""
    count: tuple[int, int | None] | None = None
    """How many items a sequence may hold: (at least, at most or None)."""
    unique: tuple[Callable[[Any], Any], str] | None = None
    """(key of an item, what the items are called): items whose keys repeat are a problem."""
    why: str | None = None
    """Why the count is what it is, said after a count problem (an AWS quota, ...)."""


def limits_of(field_rules: FieldRules | None) -> str:
    """A field's limits in words, from its rules (``""`` when its rules say no number): what the
    generated config reference shows beside the field's docstring."""
    if field_rules is None:
        return ""
    parts = []
    if (text := getattr(field_rules.check, "limits", None)):
        parts.append(text)
    if field_rules.count is not None:
        low, high = field_rules.count
        if high is None:
            parts.append(f"at least {low:,} {'entry' if low == 1 else 'entries'}")
        else:
            parts.append(f"{low:,} to {high:,} entries")
    if (text := getattr(field_rules.each, "limits", None)):
        parts.append(f"each {text}")
    return "; ".join(parts)


def rules(*, check: Check | None = None, each: Check | None = None,
          count: tuple[int, int | None] | None = None,
          unique: tuple[Callable[[Any], Any], str] | None = None,
          why: str | None = None) -> dict:
    """Field metadata carrying the field's rules: ``field(default=..., metadata=rules(...))``."""
    return {"rules": FieldRules(check, each, count, unique, why)}


class _Unread:
    """A value that could not be read (its problem is already reported): not judged again."""

    def __repr__(self) -> str:
        return "UNREAD"


UNREAD = _Unread()


def is_unknown(value: Any) -> bool:
    """A value that only exists at deploy time (another resource's output, an awaitable), or
    one that could not be read: rules skip it."""
    return isinstance(value, (pulumi.Output, _Unread)) or inspect.isawaitable(value)


def count_problem(items: Sequence[Any], low: int, high: int | None) -> str | None:
    if len(items) < low or (high is not None and len(items) > high):
        limit = f"at least {low}" if high is None else f"{low} to {high}"
        noun = "entry" if (high if high is not None else low) == 1 else "entries"
        return f"expected {limit} {noun}, got {len(items)}"
    return None


def duplicate_keys(keys: Iterable[Any]) -> list[Any]:
    """Keys that occur more than once, in order of first appearance (``None`` ignored)."""
    counts = Counter(k for k in keys if k is not None)
    return [k for k, n in counts.items() if n > 1]


def duplicate_problems(items: Iterable[Any], key: Callable[[Any], Any], what: str) -> list[str]:
    """One message per repeated key, in order of first appearance."""
    keys = [key(item) for item in items]
    counts = Counter(k for k in keys if k is not None)
    return [f"duplicate {what} {shown(k)} ({n} times)" for k, n in counts.items() if n > 1]


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def problems_of(value: Any, path: str = "") -> list[Problem]:
    """Every problem of ``value`` (an args dataclass) and of the args nested in it, at once."""
    found: list[Problem] = []
    for f in dataclasses.fields(value):
        found += field_problems(f, getattr(value, f.name), _join(path, f.name))
    cross = getattr(value, "cross_problems", None)
    if cross is not None:
        found += [Problem(_join(path, p.path), p.message) for p in cross()]
    return found


def field_problems(f: dataclasses.Field, item: Any, where: str) -> list[Problem]:
    """The problems of one field's value: its rules, and those of the args nested in it."""
    if item is None or is_unknown(item):
        return []
    found = _field_problems(f.metadata.get("rules"), item, where)
    if dataclasses.is_dataclass(item):
        found += problems_of(item, where)
    elif _is_sequence(item):
        for i, element in enumerate(item):
            if dataclasses.is_dataclass(element):
                found += problems_of(element, f"{where}[{i}]")
    return found


def field_named(cls: type, name: str) -> dataclasses.Field:
    return next(f for f in dataclasses.fields(cls) if f.name == name)


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def _field_problems(field_rules: FieldRules | None, value: Any, where: str) -> list[Problem]:
    if field_rules is None:
        return []
    found = []
    if field_rules.check is not None and (message := field_rules.check(value)):
        found.append(Problem(where, message))
    if _is_sequence(value):
        if field_rules.count is not None and (message := count_problem(value, *field_rules.count)):
            found.append(Problem(where, f"{message}: {field_rules.why}" if field_rules.why
                                 else message))
        if field_rules.each is not None:
            found += [Problem(f"{where}[{i}]", message) for i, item in enumerate(value)
                      if not is_unknown(item) and (message := field_rules.each(item))]
        if field_rules.unique is not None:
            key, what = field_rules.unique
            known = [item for item in value if not is_unknown(item)]
            found += [Problem(where, m) for m in duplicate_problems(known, key, what)]
    return found


def require_valid(component: str, name: str, args: Any) -> None:
    """Raise ``ValueError`` naming every problem of ``args``, before anything is registered."""
    found = problems_of(args)
    if found:
        raise ValueError(f"{component} {name!r}: " + "; ".join(map(str, found)))


# ---- the shape of the args, for the stack config and for other Pulumi languages ------------

def type_hints(cls: type) -> dict[str, Any]:
    """The fields' annotations as objects. ``pulumi.Input`` names ``Output`` by a forward
    reference, resolved here against the pulumi module."""
    return typing.get_type_hints(cls, localns={"Output": pulumi.Output, "T": Any})


def plain_type(tp: Any) -> Any:
    """``Optional[X]`` -> ``X``; ``pulumi.Input[X]`` (a union with ``Output``) -> ``X``."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        plain = [a for a in members if not _is_output_or_awaitable(a)]
        return plain_type(plain[0]) if len(plain) == 1 else tp
    return tp


def _is_output_or_awaitable(tp: Any) -> bool:
    origin = typing.get_origin(tp) or tp
    return origin is pulumi.Output or (inspect.isclass(origin) and
                                       issubclass(origin, typing.Awaitable))


def default_of(cls: type, name: str) -> Any:
    """A field's default (``dataclasses.MISSING`` when the field is required)."""
    f = field_named(cls, name)
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def docstrings(cls: type) -> dict[str, str]:
    """Each field's docstring: the string right after the field in the class body (the same
    reading Pulumi's analyzer does for schema descriptions)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body
    out = {}
    for node, after in zip(body, body[1:], strict=False):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) \
                and isinstance(after.value.value, str):
            out[node.target.id] = inspect.cleandoc(after.value.value)
    return out


def from_inputs(cls: type, raw: Any) -> Any:
    """Args as a component receives them from another Pulumi language (``construct`` passes a
    plain dict with snake_case keys, nested objects as dicts, numbers as floats) -> ``cls``.
    Already-built args pass through."""
    if isinstance(raw, cls):
        return raw
    if not isinstance(raw, Mapping):
        raise ValueError(f"{cls.__name__}: expected an object of inputs, got {raw!r}")
    hints = type_hints(cls)
    values = {f.name: _converted(hints[f.name], raw[f.name])
              for f in dataclasses.fields(cls) if f.name in raw and raw[f.name] is not None}
    return cls(**values)


def _converted(tp: Any, value: Any) -> Any:
    tp = plain_type(tp)
    if is_unknown(value):
        return value
    origin = typing.get_origin(tp)
    if inspect.isclass(tp) and dataclasses.is_dataclass(tp):
        return from_inputs(tp, value)
    if inspect.isclass(tp) and issubclass(tp, enum.Enum) and not isinstance(value, tp):
        return tp(value) if value in {m.value for m in tp} else value
    if tp is int and isinstance(value, float) and value.is_integer():
        return int(value)  # the wire carries every number as a float
    if origin in (Sequence, list) and isinstance(value, Sequence) and not isinstance(value, str):
        (item,) = typing.get_args(tp) or (Any,)
        return tuple(_converted(item, v) for v in value)
    if origin in (Mapping, dict) and isinstance(value, Mapping):
        _, item = typing.get_args(tp) or (Any, Any)
        return {k: _converted(item, v) for k, v in value.items()}
    return value
