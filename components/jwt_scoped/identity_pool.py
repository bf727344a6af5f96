"""ScopedIdentityPool: a Cognito user pool whose groups become OAuth scopes in issued tokens."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from . import rules as r
from .cognito_urls import OAUTH_SCOPES, default_domain_base, hosted_ui_url, issuer_url
from .model import Problem, from_inputs, is_unknown, require_valid, rules
from .modes import FEATURE_PLANS, TRIGGER_VERSIONS, TokenUse
from .package import component_options, type_token
from .python_function import PACKAGE_DIR, PythonFunction, PythonFunctionArgs, packaged_function
from .scope_format import scope_name
from .specs import GroupSpec, UserSpec

EXPLICIT_AUTH_FLOWS = ("ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
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
        default=("http://localhost:3000/callback",), metadata=rules(
            each=r.callback_url_problem, count=(1, r.MAX_CALLBACK_URLS),
            unique=(lambda url: url, "callback URL"),
            why=r.CALLBACK_URLS_WHY))
    """OAuth redirect URLs of the app client: https, or http for ``localhost`` only."""
    logout_urls: Sequence[str] | None = field(default=(), metadata=rules(
        each=r.logout_url_problem, count=(0, r.MAX_LOGOUT_URLS),
        unique=(lambda url: url, "sign-out URL"), why=r.LOGOUT_URLS_WHY))
    """Where the hosted UI's ``/logout`` may send the browser after signing out (its
    ``logout_uri``), by the callback URLs' rule; none: ``/logout`` only signs out."""
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

    def cross_problems(self) -> list[Problem]:
        """Each user's groups must be groups of the pool. Any group the args name counts, even
        one with another problem, so one bad field is one problem, not a cascade."""
        known = {g.name for g in self.groups if isinstance(getattr(g, "name", None), str)}
        if not known:
            return []  # no groups at all: the groups field's own problem says it
        return [Problem(f"users[{i}].groups", message)
                for i, user in enumerate(self.users or ())
                for group in (getattr(user, "groups", None) or ())
                if not is_unknown(group) and (message := r.unknown_group_problem(group, known))]


class ScopedIdentityPool(pulumi.ComponentResource):
    """User pool, public app client, hosted-UI domain, groups, optional users, and the Pre Token
    Generation trigger that writes each user's groups into the tokens as scopes."""

    user_pool_id: pulumi.Output[str]
    """The user pool's id, ``<region>_<id>``."""
    user_pool_arn: pulumi.Output[str]
    """The user pool's ARN."""
    client_id: pulumi.Output[str]
    """The public app client's id: the audience of the tokens."""
    issuer_url: pulumi.Output[str]
    """The tokens' ``iss``: ``https://cognito-idp.<region>.amazonaws.com/<poolId>``."""
    hosted_ui_url: pulumi.Output[str]
    """The hosted UI's sign-in page (authorization code flow, first callback URL)."""
    scopes: pulumi.Output[dict[str, str]]
    """Group -> the scope its membership grants, ``<group>-<appClientId>``: what routes demand."""
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

        self.client = aws.cognito.UserPoolClient(
            f"{name}-client",
            user_pool_id=self.user_pool.id,
            generate_secret=False,  # a public client: the CLI and browsers cannot keep a secret
            explicit_auth_flows=list(EXPLICIT_AUTH_FLOWS),
            allowed_oauth_flows_user_pool_client=True,
            allowed_oauth_flows=["code"],
            allowed_oauth_scopes=list(OAUTH_SCOPES),
            callback_urls=list(args.callback_urls),
            logout_urls=list(args.logout_urls or ()) or None,
            supported_identity_providers=["COGNITO"],
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            id_token_validity=args.id_token_validity_minutes,
            access_token_validity=args.access_token_validity_minutes,
            refresh_token_validity=args.refresh_token_validity_days,
            token_validity_units={"id_token": "minutes", "access_token": "minutes",
                                  "refresh_token": "days"},
            opts=child)

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
        self.issuer_url = self.user_pool.endpoint.apply(issuer_url)
        self.hosted_ui_url = pulumi.Output.all(
            self.domain.domain, self.user_pool.id, self.client.id).apply(
            lambda v: hosted_ui_url(v[0], v[1], v[2], args.callback_urls[0]))
        self.scopes = self.client.id.apply(
            lambda client_id: {group: scope_name(group, client_id) for group in self._groups})
        # RandomPassword.result is secret in a real engine but not under mocks: say so here.
        self.user_passwords = pulumi.Output.secret(passwords)
        self.register_outputs({
            "user_pool_id": self.user_pool_id, "user_pool_arn": self.user_pool_arn,
            "client_id": self.client_id, "issuer_url": self.issuer_url,
            "hosted_ui_url": self.hosted_ui_url, "scopes": self.scopes,
            "user_passwords": self.user_passwords})

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
