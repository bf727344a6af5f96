"""Plain value types shared by the stack settings and the components (no Pulumi imports)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from . import rules


@dataclass(frozen=True)
class GroupSpec:
    """A Cognito group; membership grants the scope ``<name>-<appClientId>``."""

    name: str
    """Group name: also the first part of its scope (see ``rules.NAME_RULE``)."""
    description: str | None = None
    """Shown in the Cognito console."""
    precedence: int | None = None
    """Cognito precedence (lower wins) when a user's groups carry IAM roles; not used for scopes."""


@dataclass(frozen=True)
class UserSpec:
    """A test user with a generated permanent password."""

    username: str
    """Sign-in name (case-insensitive)."""
    groups: tuple[str, ...] = ()
    """Names of the groups the user belongs to."""


def duplicates(values: Iterable[str]) -> list[str]:
    """Values that occur more than once, in order of first occurrence."""
    counts = Counter(values)
    return [v for v in counts if counts[v] > 1]


def membership_problems(groups: Sequence[GroupSpec], users: Sequence[UserSpec]) -> list[str]:
    """Group and user names that are invalid, repeated, or that refer to an unknown group."""
    problems = [p for g in groups if (p := rules.name_problem("group name", g.name))]
    problems += [p for u in users if (p := rules.name_problem("username", u.username))]
    problems += [f"duplicate group {d!r}" for d in duplicates(g.name for g in groups)]
    problems += [f"duplicate username {d!r} (usernames are case-insensitive)"
                 for d in duplicates(u.username.lower() for u in users)]
    known = {g.name for g in groups}
    problems += [f"user {u.username!r} names unknown group {g!r}"
                 for u in users for g in u.groups if g not in known]
    return problems
