"""The groups and test users of a ``ScopedIdentityPool``: value types with their rules."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from . import rules as r
from .model import rules


@dataclass(frozen=True, kw_only=True)
class GroupSpec:
    """A Cognito group; membership grants the scope ``<name>-<appClientId>``."""

    name: str = field(metadata=rules(check=lambda v: r.name_problem("group name", v)))
    """Group name: also the first part of its scope. 1-128 characters from letters, digits and
    ``. _ @ + = -`` (a scope is one word of the space-separated ``scope`` claim)."""
    description: str | None = field(default=None, metadata=rules(
        check=lambda v: r.text_problem("description", v, r.GROUP_DESCRIPTION_MAX)))
    """Shown in the Cognito console; at most 2048 characters."""
    precedence: int | None = field(default=None, metadata=rules(
        check=lambda v: r.whole_range_problem("precedence", v, *r.GROUP_PRECEDENCE_RANGE)))
    """Cognito precedence (lower wins) when a user's groups carry IAM roles; not used for
    scopes."""


@dataclass(frozen=True, kw_only=True)
class UserSpec:
    """A test user with a generated permanent password and no invitation."""

    username: str = field(metadata=rules(check=lambda v: r.name_problem("username", v)))
    """Sign-in name (case-insensitive): 1-128 characters from letters, digits and
    ``. _ @ + = -``."""
    groups: Sequence[str] | None = field(default=(), metadata=rules(
        unique=(lambda g: g, "group")))
    """Names of the groups the user belongs to."""
