"""The groups and test users of a ``ScopedIdentityPool``: value types with their rules."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from . import rules as r
from .model import rules


@dataclass(frozen=True, kw_only=True)
class GroupSpec:
    """A Cognito group; membership grants the scope ``<name>-<appClientId>``."""

    name: str = field(metadata=rules(check=r.Name("group name")))
    """Group name: also the first part of its scope, so it is one word of letters, digits and
    ``. _ @ + = -`` (a scope is one word of the space-separated ``scope`` claim)."""
    description: str | None = field(default=None, metadata=rules(
        check=r.Text("description", r.GROUP_DESCRIPTION_MAX)))
    """Shown in the Cognito console."""
    precedence: int | None = field(default=None, metadata=rules(
        check=r.WholeRange("precedence", *r.GROUP_PRECEDENCE_RANGE)))
    """Cognito precedence (lower wins) when a user's groups carry IAM roles; not used for
    scopes."""


@dataclass(frozen=True, kw_only=True)
class UserSpec:
    """A test user with a generated permanent password and no invitation."""

    username: str = field(metadata=rules(check=r.Name("username")))
    """Sign-in name (case-insensitive)."""
    groups: Sequence[str] | None = field(default=(), metadata=rules(
        unique=(lambda g: g, "group")))
    """Names of the groups the user belongs to."""
