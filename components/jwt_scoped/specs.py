"""What a ``ScopedIdentityPool`` holds besides its settings: groups, test users, app clients,
resource servers and machine clients. Value types with their rules."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from . import rules as r
from .model import Problem, rules


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


@dataclass(frozen=True, kw_only=True)
class AppClientSpec:
    """An app client that people sign in through (a web or a mobile app): a public client
    (no secret) with password and SRP sign-in; with callback URLs, the hosted UI's code grant
    too. Every user client is an audience of the API, and a group grants one scope per client."""

    name: str = field(metadata=rules(check=r.Name("app client name")))
    """The client's name, unique among the pool's clients (``web``, ``mobile``)."""
    callback_urls: Sequence[str] | None = field(default=(), metadata=rules(
        each=r.callback_url_problem, count=(0, r.MAX_CALLBACK_URLS),
        unique=(lambda url: url, "callback URL"), why=r.CALLBACK_URLS_WHY))
    """Where the hosted UI sends the browser back with a code (by the pool's callback URL
    rule); none: the client has no hosted UI (an app that signs in with SRP)."""
    logout_urls: Sequence[str] | None = field(default=(), metadata=rules(
        each=r.logout_url_problem, count=(0, r.MAX_LOGOUT_URLS),
        unique=(lambda url: url, "sign-out URL"), why=r.LOGOUT_URLS_WHY))
    """Where ``/logout`` may send the browser."""


@dataclass(frozen=True, kw_only=True)
class ResourceServerSpec:
    """An OAuth resource server: an identifier and the scopes it defines, which machine clients
    may request and routes may demand as ``<identifier>/<scope>``."""

    identifier: str = field(metadata=rules(check=r.resource_server_identifier_problem))
    """The scopes' prefix in tokens (``orders`` gives ``orders/read``)."""
    name: str | None = field(default=None, metadata=rules(check=r.Name("resource server name")))
    """Its name in Cognito and in resource names; by default the identifier (which must then be
    a valid name)."""
    scopes: Sequence[str] = field(metadata=rules(
        each=r.resource_scope_name_problem, count=(1, r.MAX_SCOPES_PER_RESOURCE_SERVER),
        unique=(lambda s: s, "scope"), why=r.RESOURCE_SCOPES_WHY))
    """Its scope names (``read``, ``write``)."""

    @property
    def resource_name(self) -> str:
        return self.name if self.name is not None else self.identifier

    def cross_problems(self) -> list[Problem]:
        """Without a name, the identifier names the resource, so it must be a valid name."""
        if self.name is None and isinstance(self.identifier, str) \
                and r.resource_server_identifier_problem(self.identifier) is None \
                and r.name_problem("name", self.identifier):
            return [Problem("name", f"required: the identifier {self.identifier!r} is not a "
                                    f"valid name ({r.NAME_RULE})")]
        return []


@dataclass(frozen=True, kw_only=True)
class MachineClientSpec:
    """An app client for a service (a nightly job, a partner's backend): a secret, the client
    credentials grant only, and the resource-server scopes it may request. No user signs in
    through it. Its id is an audience of the API; its secret is a secret stack output."""

    name: str = field(metadata=rules(check=r.Name("machine client name")))
    """The client's name, unique among the pool's clients: how ``jwt-scoped plan`` calls it."""
    scopes: Sequence[str] = field(metadata=rules(
        count=(1, r.MAX_CLIENT_OAUTH_SCOPES), unique=(lambda s: s, "scope"),
        why=r.CLIENT_SCOPES_WHY))
    """The scopes it may request, each a resource server's (``orders/read``)."""
    access_token_validity_minutes: int | None = field(default=60, metadata=rules(
        check=r.WholeRange("access token validity", *r.TOKEN_MINUTES_RANGE)))
    """Its access tokens' lifetime in minutes."""
