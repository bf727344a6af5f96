"""ScopedIdentityPool: a Cognito user pool whose groups become OAuth scopes in issued tokens."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from . import rules as r
from .cognito_urls import OAUTH_SCOPES, default_domain_base, hosted_ui_url, issuer_url
from .model import (
    Problem,
    field_named,
    field_problems,
    from_inputs,
    is_unknown,
    require_valid,
    rules,
)
from .modes import (
    CLIENT_CREDENTIALS,
    CODE_GRANT,
    FEATURE_PLANS,
    MACHINE_AUTH_FLOWS,
    TRIGGER_VERSIONS,
    USER_AUTH_FLOWS,
    TokenUse,
)
from .package import component_options, type_token
from .python_function import PACKAGE_DIR, PythonFunction, PythonFunctionArgs, packaged_function
from .scope_format import scope_name
from .specs import AppClientSpec, GroupSpec, MachineClientSpec, ResourceServerSpec, UserSpec

DEFAULT_APP_CLIENT = "app"
"""The name of the one user client a pool has when its args name none (``app_clients``)."""
DEFAULT_CALLBACK_URLS = ("http://localhost:3000/callback",)
# Special characters for generated passwords: all in Cognito's allowed set, none that a shell,
# a URL or the CLI shorthand `USERNAME=x,PASSWORD=y` would mangle.
PASSWORD_SPECIALS = "-_.+"
TRIGGER_TIMEOUT = 5  # seconds: Cognito waits at most 5 s for a trigger, then fails the sign-in


def _username_key(user: Any) -> Any:
    username = getattr(user, "username", None)
    return username.lower() if isinstance(username, str) else None


@dataclass(frozen=True, kw_only=True)
class ScopedIdentityPoolArgs:
    """The user pool's groups, test users and settings."""

    groups: Sequence[GroupSpec] = field(metadata=rules(
        count=(1, None), unique=(lambda g: getattr(g, "name", None), "group"),
        why="groups are what routes admit"))
    """Cognito groups; membership of one grants the scope ``<group>-<appClientId>``: groups are
    what routes admit."""
    users: Sequence[UserSpec] | None = field(default=(), metadata=rules(
        unique=(_username_key, "username (case-insensitive)")))
    """Test users, each with a generated permanent password (the ``user_passwords`` output, a
    secret) and no invitation; usernames are case-insensitive."""
    token_use: TokenUse | None = field(default=TokenUse.ID, metadata=rules(
        check=r.token_use_problem))
    """Which token carries the group scopes, and so which token the API takes on group routes:
    ``id`` (trigger V1_0, Lite plan) or ``access`` (trigger V2_0, Essentials plan)."""
    callback_urls: Sequence[str] | None = field(
        default=DEFAULT_CALLBACK_URLS, metadata=rules(
            each=r.callback_url_problem, count=(1, r.MAX_CALLBACK_URLS),
            unique=(lambda url: url, "callback URL"),
            why=r.CALLBACK_URLS_WHY))
    """OAuth redirect URLs of the app client: https, or http for ``localhost`` only (with
    ``app_clients``, each client has its own)."""
    logout_urls: Sequence[str] | None = field(default=(), metadata=rules(
        each=r.logout_url_problem, count=(0, r.MAX_LOGOUT_URLS),
        unique=(lambda url: url, "sign-out URL"), why=r.LOGOUT_URLS_WHY))
    """Where the hosted UI's ``/logout`` may send the browser after signing out (its
    ``logout_uri``), by the callback URLs' rule; none: ``/logout`` only signs out."""
    app_clients: Sequence[AppClientSpec] | None = field(default=None, metadata=rules(
        count=(1, r.MAX_APP_CLIENTS), unique=(lambda c: getattr(c, "name", None), "app client"),
        why=r.APP_CLIENTS_WHY))
    """The clients people sign in through (``web`` with the hosted UI, ``mobile`` with SRP),
    each an audience of the API; a group grants one scope per client. None: one client,
    ``app``, with the pool's ``callback_urls`` and ``logout_urls``."""
    resource_servers: Sequence[ResourceServerSpec] | None = field(default=(), metadata=rules(
        count=(0, r.MAX_RESOURCE_SERVERS),
        unique=(lambda s: getattr(s, "identifier", None), "resource server identifier"),
        why=r.RESOURCE_SERVERS_WHY))
    """OAuth resource servers and the scopes they define (``orders`` with ``read`` and
    ``write``: ``orders/read``, ``orders/write``), for machine clients and the routes that admit
    them."""
    machine_clients: Sequence[MachineClientSpec] | None = field(default=(), metadata=rules(
        unique=(lambda c: getattr(c, "name", None), "machine client")))
    """Confidential clients for services: a secret (the ``machine_client_secrets`` output), the
    client credentials grant only, and the resource-server scopes each may request."""
    domain_prefix: str | None = field(default=None, metadata=rules(
        check=r.domain_prefix_problem))
    """Hosted UI prefix (``<prefix>.auth.<region>.amazoncognito.com``); by default
    ``<project>-<stack>-`` and random characters. Lowercase letters, digits and hyphens,
    without ``aws``, ``amazon`` or ``cognito``."""
    id_token_validity_minutes: int | None = field(default=60, metadata=rules(
        check=r.WholeRange("ID token validity", *r.TOKEN_MINUTES_RANGE)))
    """ID token lifetime in minutes."""
    access_token_validity_minutes: int | None = field(default=60, metadata=rules(
        check=r.WholeRange("access token validity", *r.TOKEN_MINUTES_RANGE)))
    """Access token lifetime in minutes."""
    refresh_token_validity_days: int | None = field(default=30, metadata=rules(
        check=r.WholeRange("refresh token validity", *r.REFRESH_DAYS_RANGE)))
    """Refresh token lifetime in days."""
    log_retention_days: int | None = field(default=r.DEFAULT_LOG_RETENTION_DAYS, metadata=rules(
        check=r.LogRetention()))
    """Days CloudWatch Logs keeps the trigger's logs: one of the values CloudWatch Logs
    accepts."""
    protect: bool | None = field(default=True, metadata=rules(check=r.boolean_problem))
    """Guard the user pool and every user in it: Cognito deletion protection and Pulumi
    ``protect``. Turn off only for throwaway stacks."""
    tags: Mapping[str, str] | None = field(default_factory=dict, metadata=rules(
        check=r.mapping_problem))
    """Tags for the user pool."""

    @property
    def user_clients(self) -> tuple[AppClientSpec, ...]:
        """The clients people sign in through: ``app_clients``, or the one default client."""
        if self.app_clients is not None:
            return tuple(self.app_clients)
        return (AppClientSpec(name=DEFAULT_APP_CLIENT, callback_urls=self.callback_urls or (),
                              logout_urls=self.logout_urls or ()),)

    def cross_problems(self) -> list[Problem]:
        """Each user's groups must be groups of the pool; client names are unique across user and
        machine clients, which together stay within Cognito's quota; each machine client's
        scopes are scopes the pool's resource servers define. Any group, client or scope the
        args name counts, even one with another problem, so one bad field is one problem."""
        found = self._user_group_problems()
        found += self._client_problems()
        if self.resource_servers_readable():
            found += [Problem(f"machine_clients[{i}].scopes[{j}]", message)
                      for i, client in enumerate(self.machine_clients or ())
                      for j, scope in enumerate(getattr(client, "scopes", None) or ())
                      if (message := resource_scope_problem(scope, self.resource_servers or ()))]
        return found

    def resource_servers_readable(self) -> bool:
        """Whether the resource servers are valid, so that what names their scopes can be
        judged against them (a bad server is its own problem, not one per reference)."""
        if is_unknown(self.resource_servers):
            return False
        return not field_problems(field_named(ScopedIdentityPoolArgs, "resource_servers"),
                                  self.resource_servers, "resource_servers")

    def _user_group_problems(self) -> list[Problem]:
        known = {g.name for g in self.groups if isinstance(getattr(g, "name", None), str)}
        if not known:
            return []  # no groups at all: the groups field's own problem says it
        return [Problem(f"users[{i}].groups", message)
                for i, user in enumerate(self.users or ())
                for group in (getattr(user, "groups", None) or ())
                if not is_unknown(group) and (message := r.unknown_group_problem(group, known))]

    def _client_problems(self) -> list[Problem]:
        found = []
        if self.app_clients is not None:
            for key, given, default in (("callback_urls", self.callback_urls,
                                         DEFAULT_CALLBACK_URLS),
                                        ("logout_urls", self.logout_urls, ())):
                if tuple(given or ()) != default:
                    found.append(Problem(key, "with app_clients, give each app client its own "
                                              f"{key} (this one would be ignored)"))
        users = {getattr(c, "name", None) for c in self.app_clients or ()}
        for i, client in enumerate(self.machine_clients or ()):
            if getattr(client, "name", None) in users:
                found.append(Problem(f"machine_clients[{i}].name",
                                     f"{client.name!r} is an app client too: a client is for "
                                     "people or for machines, not both (give them two names)"))
        total = len(self.user_clients) + len(self.machine_clients or ())
        if total > r.MAX_APP_CLIENTS:
            found.append(Problem("machine_clients", f"{total} app clients in all: "
                                                    f"{r.APP_CLIENTS_WHY}"))
        return found


def _by_name(outputs: Mapping[str, pulumi.Output[str]]) -> pulumi.Output[dict[str, str]]:
    """One output of a map of outputs (``Output.all()`` of nothing is a list, not a map)."""
    return pulumi.Output.all(**outputs) if outputs else pulumi.Output.from_input({})


def resource_scope_problem(scope: object, servers: Sequence[ResourceServerSpec]) -> str | None:
    """Why ``scope`` (``orders/read``) is not a scope the resource servers define, or ``None``.
    Pure."""
    if not isinstance(scope, str):
        return f"scope must be a string, got {scope!r}"
    identifier, sep, name = scope.rpartition(r.SCOPE_SEPARATOR)
    defined = {getattr(s, "identifier", None): tuple(getattr(s, "scopes", None) or ())
               for s in servers}
    if not sep or identifier not in defined:
        known = [i for i in defined if isinstance(i, str)]
        return (f"unknown resource server in scope {scope!r}"
                f"{r.suggestion(identifier, known)}: a machine scope is <identifier>/<scope> of "
                f"a resource server; resource servers are: {', '.join(sorted(known)) or '(none)'}")
    if name not in defined[identifier]:
        return (f"unknown scope {scope!r}{r.suggestion(name, defined[identifier])}; resource "
                f"server {identifier!r} defines: {', '.join(defined[identifier]) or '(none)'}")
    return None


class ScopedIdentityPool(pulumi.ComponentResource):
    """User pool, public app clients, hosted-UI domain, groups, optional users, resource servers
    and machine clients, and the Pre Token Generation trigger that writes each user's groups
    into the tokens as scopes (one per app client)."""

    user_pool_id: pulumi.Output[str]
    """The user pool's id, ``<region>_<id>``."""
    user_pool_arn: pulumi.Output[str]
    """The user pool's ARN."""
    client_id: pulumi.Output[str]
    """The first app client's id (the default client's): the audience of its tokens."""
    client_ids: pulumi.Output[dict[str, str]]
    """App client name -> id, of every client people sign in through."""
    group_scopes: pulumi.Output[dict[str, list[str]]]
    """Group -> its scopes, one per app client (``<group>-<clientId>``): what a route that
    admits the group demands (``ScopedHttpApiArgs.scopes``)."""
    audiences: pulumi.Output[list[str]]
    """Every client id, people's and machines': the API's audiences."""
    machine_client_ids: pulumi.Output[dict[str, str]]
    """Machine client name -> id."""
    machine_client_secrets: pulumi.Output[dict[str, str]]
    """Machine client name -> its secret (a secret output)."""
    issuer_url: pulumi.Output[str]
    """The tokens' ``iss``: ``https://cognito-idp.<region>.amazonaws.com/<poolId>``."""
    hosted_ui_url: pulumi.Output[str]
    """The hosted UI's sign-in page (authorization code flow, first callback URL)."""
    scopes: pulumi.Output[dict[str, str]]
    """Group -> the scope its membership grants through the first app client,
    ``<group>-<appClientId>``."""
    user_passwords: pulumi.Output[dict[str, str]]
    """Username -> generated password of each test user (a secret)."""

    def __init__(self, name: str, args: ScopedIdentityPoolArgs,
                 opts: pulumi.ResourceOptions | None = None):
        args = from_inputs(ScopedIdentityPoolArgs, args)  # a dict when another language calls
        require_valid("ScopedIdentityPool", name, args)
        super().__init__(type_token("ScopedIdentityPool"), name, None,
                         component_options("ScopedIdentityPool", opts))
        child = pulumi.ResourceOptions(parent=self)
        self._groups = tuple(g.name for g in args.groups)
        token_use = TokenUse(args.token_use)

        self.trigger = PythonFunction(f"{name}-pre-token", PythonFunctionArgs(
            source_dir=packaged_function("trigger"),
            # The trigger writes the very scope format the routes demand: it ships this file.
            extra_files={"scope_format.py": str(PACKAGE_DIR / "scope_format.py")},
            description="Cognito Pre Token Generation: groups -> scopes",
            timeout=TRIGGER_TIMEOUT, log_retention_days=args.log_retention_days), opts=child)

        # Nothing here depends on groups, users or routes, so editing them never touches (let
        # alone replaces) the pool: replacing a pool deletes every user in it.
        self.user_pool = aws.cognito.UserPool(
            f"{name}-user-pool",
            deletion_protection="ACTIVE" if args.protect else "INACTIVE",
            user_pool_tier=FEATURE_PLANS[token_use],
            username_configuration={"case_sensitive": False},
            admin_create_user_config={"allow_admin_create_user_only": True},
            account_recovery_setting={"recovery_mechanisms": [{"name": "admin_only",
                                                               "priority": 1}]},
            password_policy={"minimum_length": 12, "require_lowercase": True,
                             "require_uppercase": True, "require_numbers": True,
                             "require_symbols": True, "temporary_password_validity_days": 7},
            lambda_config={"pre_token_generation_config": {
                "lambda_arn": self.trigger.arn,
                "lambda_version": TRIGGER_VERSIONS[token_use]}},
            tags=args.tags or None,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect))

        aws.lambda_.Permission(
            f"{name}-pre-token-invoke", action="lambda:InvokeFunction",
            function=self.trigger.function_name, principal=r.COGNITO_PRINCIPAL,
            source_arn=self.user_pool.arn, opts=child)

        # Resource servers first: a client may only be allowed scopes that exist.
        self.resource_servers = {spec.identifier: aws.cognito.ResourceServer(
            f"{name}-resource-server-{spec.resource_name}", user_pool_id=self.user_pool.id,
            identifier=spec.identifier, name=spec.resource_name,
            scopes=[{"scope_name": scope, "scope_description": r.resource_scope(
                spec.identifier, scope)} for scope in spec.scopes],
            opts=child) for spec in args.resource_servers or ()}

        self.clients = {spec.name: self._user_client(name, spec, args)
                        for spec in args.user_clients}
        self.client = next(iter(self.clients.values()))
        after_servers = pulumi.ResourceOptions(parent=self,
                                               depends_on=list(self.resource_servers.values()))
        self.machine_clients = {spec.name: aws.cognito.UserPoolClient(
            f"{name}-machine-{spec.name}", name=spec.name, user_pool_id=self.user_pool.id,
            generate_secret=True,  # a confidential client: its secret proves who calls
            explicit_auth_flows=list(MACHINE_AUTH_FLOWS),
            allowed_oauth_flows_user_pool_client=True,
            allowed_oauth_flows=[CLIENT_CREDENTIALS], allowed_oauth_scopes=list(spec.scopes),
            prevent_user_existence_errors="ENABLED", enable_token_revocation=True,
            access_token_validity=spec.access_token_validity_minutes,
            token_validity_units={"access_token": "minutes"},
            opts=after_servers) for spec in args.machine_clients or ()}

        if args.domain_prefix is not None:
            domain_name: pulumi.Input[str] = args.domain_prefix
        else:
            suffix = random.RandomString(f"{name}-domain-suffix", length=r.DOMAIN_SUFFIX_LENGTH,
                                         special=False,
                                         upper=False, opts=child)
            base = default_domain_base(pulumi.get_project(), pulumi.get_stack())
            domain_name = pulumi.Output.concat(base, "-", suffix.result)
        self.domain = aws.cognito.UserPoolDomain(
            f"{name}-domain", domain=domain_name, user_pool_id=self.user_pool.id, opts=child)

        groups = {g.name: aws.cognito.UserGroup(
            f"{name}-group-{g.name}", user_pool_id=self.user_pool.id, name=g.name,
            description=g.description, precedence=g.precedence, opts=child) for g in args.groups}

        passwords = {}
        for user in args.users or ():
            password = random.RandomPassword(
                f"{name}-password-{user.username}", length=24, special=True,
                override_special=PASSWORD_SPECIALS, min_lower=1, min_upper=1, min_numeric=1,
                min_special=1, opts=child)
            cognito_user = aws.cognito.User(
                f"{name}-user-{user.username}", user_pool_id=self.user_pool.id,
                username=user.username, password=password.result,
                message_action="SUPPRESS",  # no invitation: the password is set as permanent
                opts=child)
            for group in user.groups:
                aws.cognito.UserInGroup(
                    f"{name}-membership-{user.username}/{group}",
                    user_pool_id=self.user_pool.id, group_name=groups[group].name,
                    username=cognito_user.username, opts=child)
            passwords[user.username] = password.result

        self.user_pool_id = self.user_pool.id
        self.user_pool_arn = self.user_pool.arn
        self.client_id = self.client.id
        self.client_ids = _by_name({n: c.id for n, c in self.clients.items()})
        self.issuer_url = self.user_pool.endpoint.apply(issuer_url)
        hosted = next((spec for spec in args.user_clients if spec.callback_urls), None)
        self.hosted_ui_url = pulumi.Output.all(
            self.domain.domain, self.user_pool.id, self.clients[hosted.name].id).apply(
            lambda v: hosted_ui_url(v[0], v[1], v[2], hosted.callback_urls[0])) \
            if hosted is not None else pulumi.Output.from_input("")
        self.scopes = self.client.id.apply(
            lambda client_id: {group: scope_name(group, client_id) for group in self._groups})
        self.group_scopes = pulumi.Output.all(*[c.id for c in self.clients.values()]).apply(
            lambda ids: {group: [scope_name(group, i) for i in ids] for group in self._groups})
        self.audiences = pulumi.Output.all(
            *[c.id for c in [*self.clients.values(), *self.machine_clients.values()]])
        self.machine_client_ids = _by_name({n: c.id for n, c in self.machine_clients.items()})
        # Secret in a real engine's state and in every output that holds them.
        self.machine_client_secrets = pulumi.Output.secret(_by_name(
            {n: c.client_secret for n, c in self.machine_clients.items()}))
        # RandomPassword.result is secret in a real engine but not under mocks: say so here.
        self.user_passwords = pulumi.Output.secret(passwords)
        self.register_outputs({
            "user_pool_id": self.user_pool_id, "user_pool_arn": self.user_pool_arn,
            "client_id": self.client_id, "client_ids": self.client_ids,
            "issuer_url": self.issuer_url, "hosted_ui_url": self.hosted_ui_url,
            "scopes": self.scopes, "group_scopes": self.group_scopes,
            "audiences": self.audiences, "machine_client_ids": self.machine_client_ids,
            "machine_client_secrets": self.machine_client_secrets,
            "user_passwords": self.user_passwords})

    def _user_client(self, name: str, spec: AppClientSpec,
                     args: ScopedIdentityPoolArgs) -> aws.cognito.UserPoolClient:
        """A public client people sign in through; with callback URLs, the hosted UI's code
        grant. The default client keeps the resource name it always had."""
        hosted = bool(spec.callback_urls)
        oauth = {"allowed_oauth_flows_user_pool_client": True, "allowed_oauth_flows": [CODE_GRANT],
                 "allowed_oauth_scopes": list(OAUTH_SCOPES),
                 "callback_urls": list(spec.callback_urls),
                 "logout_urls": list(spec.logout_urls or ()) or None,
                 "supported_identity_providers": ["COGNITO"]} if hosted else {}
        default = args.app_clients is None
        return aws.cognito.UserPoolClient(
            f"{name}-client" if default else f"{name}-client-{spec.name}",
            **({} if default else {"name": spec.name}),
            user_pool_id=self.user_pool.id,
            generate_secret=False,  # a public client: the CLI and browsers cannot keep a secret
            explicit_auth_flows=list(USER_AUTH_FLOWS),
            **oauth,
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            id_token_validity=args.id_token_validity_minutes,
            access_token_validity=args.access_token_validity_minutes,
            refresh_token_validity=args.refresh_token_validity_days,
            token_validity_units={"id_token": "minutes", "access_token": "minutes",
                                  "refresh_token": "days"},
            opts=pulumi.ResourceOptions(parent=self))

    @property
    def groups(self) -> tuple[str, ...]:
        """The group names, in the order given."""
        return self._groups

    def scope_for(self, group: str) -> pulumi.Output[str]:
        """The scope that membership of ``group`` grants: ``<group>-<appClientId>`` (Python
        callers; other languages read the ``scopes`` output)."""
        if problem := r.unknown_group_problem(group, self._groups):
            raise ValueError(problem)
        return self.client.id.apply(lambda client_id: scope_name(group, client_id))
