"""ScopedIdentityPool: a Cognito user pool whose groups become OAuth scopes in issued tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from . import builtin_functions, rules
from .cognito_urls import OAUTH_SCOPES, default_domain_base, hosted_ui_url, issuer_url
from .modes import TokenUse
from .python_function import PythonFunction, PythonFunctionArgs
from .scope_format import scope_name
from .specs import GroupSpec, UserSpec, membership_problems

DEFAULT_TRIGGER_DIR = builtin_functions.source_dir(builtin_functions.TRIGGER)
SCOPE_FORMAT_FILE = str(Path(__file__).resolve().parent / "scope_format.py")

# Pre Token Generation event versions (Cognito developer guide, "Pre token generation Lambda
# trigger"): V1_0 customises the ID token on every feature plan; V2_0 also customises the access
# token and needs the Essentials or Plus plan.
TRIGGER_VERSIONS = {TokenUse.ID: "V1_0", TokenUse.ACCESS: "V2_0"}
# The feature plan each needs, set explicitly: AWS gives a new pool Essentials by default
# (Cognito developer guide, "User pool feature plans"); Lite costs least and runs V1_0 triggers.
# Both switch in place (UpdateUserPool takes UserPoolTier and LambdaConfig), users untouched.
FEATURE_PLANS = {TokenUse.ID: "LITE", TokenUse.ACCESS: "ESSENTIALS"}
EXPLICIT_AUTH_FLOWS = ("ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
# Special characters for generated passwords: all in Cognito's allowed set, none that a shell,
# a URL or the CLI shorthand `USERNAME=x,PASSWORD=y` would mangle.
PASSWORD_SPECIALS = "-_.+"


@dataclass
class ScopedIdentityPoolArgs:
    groups: Sequence[GroupSpec]
    """Cognito groups; membership of one grants the scope ``<group>-<appClientId>``."""
    users: Sequence[UserSpec] = ()
    """Test users, each with a generated permanent password and its group memberships."""
    token_use: TokenUse = TokenUse.ID
    """Which token carries the scopes: ``id`` (trigger V1_0, pool on the Lite plan) or
    ``access`` (trigger V2_0, pool on the Essentials plan)."""
    callback_urls: Sequence[str] = ("http://localhost:3000/callback",)
    """OAuth redirect URLs of the app client (https, or http for localhost)."""
    domain_prefix: str | None = None
    """Hosted UI prefix domain; default: project and stack names plus a random suffix."""
    id_token_validity_minutes: int = 60
    """ID token lifetime, 5-1440 minutes."""
    access_token_validity_minutes: int = 60
    """Access token lifetime, 5-1440 minutes."""
    refresh_token_validity_days: int = 30
    """Refresh token lifetime, 1-3650 days."""
    log_retention_days: int = 30
    """Retention of the trigger's logs."""
    protect: bool = True
    """Guard the user pool (and every user in it): Cognito deletion protection and Pulumi
    ``protect``. Turn off only for throwaway stacks."""
    trigger_source_dir: str = DEFAULT_TRIGGER_DIR
    """Folder of the Pre Token Generation handler."""
    tags: dict = field(default_factory=dict)
    """Tags for the pool."""


def pool_args_problems(args: ScopedIdentityPoolArgs) -> list[str]:
    problems = membership_problems(args.groups, args.users)
    if not args.groups:
        problems.append("groups: at least one group is needed")
    if problem := rules.token_use_problem(args.token_use):
        problems.append(f"token_use: {problem}")
    if not args.callback_urls:
        problems.append("callback_urls: at least one is needed for the authorization code flow")
    problems += [p for u in args.callback_urls if (p := rules.callback_url_problem(u))]
    if args.domain_prefix is not None:
        problems += filter(None, [rules.domain_prefix_problem(args.domain_prefix)])
    for attr, (low, high) in (("id_token_validity_minutes", rules.TOKEN_MINUTES_RANGE),
                              ("access_token_validity_minutes", rules.TOKEN_MINUTES_RANGE),
                              ("refresh_token_validity_days", rules.REFRESH_DAYS_RANGE)):
        problems += filter(None, [rules.range_problem(attr, getattr(args, attr), low, high)])
    problems += filter(None, [rules.log_retention_problem(args.log_retention_days)])
    return problems


class ScopedIdentityPool(pulumi.ComponentResource):
    """User pool, public app client, hosted-UI domain, groups, optional users, and the Pre Token
    Generation trigger that writes each user's groups into the tokens as scopes."""

    def __init__(self, name: str, args: ScopedIdentityPoolArgs,
                 opts: pulumi.ResourceOptions | None = None):
        problems = pool_args_problems(args)
        if problems:
            raise ValueError(f"ScopedIdentityPool {name!r}: " + "; ".join(problems))
        super().__init__("jwt-scoped-api:index:ScopedIdentityPool", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self._groups = tuple(g.name for g in args.groups)

        self.trigger = PythonFunction(f"{name}-pre-token", PythonFunctionArgs(
            source_dir=args.trigger_source_dir,
            extra_files={"scope_format.py": SCOPE_FORMAT_FILE},
            description="Cognito Pre Token Generation: groups -> scopes",
            timeout=5,  # Cognito waits at most 5 seconds for a trigger
            log_retention_days=args.log_retention_days), opts=child)

        # Nothing here depends on groups, users or routes, so editing them never touches (let
        # alone replaces) the pool: replacing a pool deletes every user in it.
        self.user_pool = aws.cognito.UserPool(
            f"{name}-user-pool",
            deletion_protection="ACTIVE" if args.protect else "INACTIVE",
            user_pool_tier=FEATURE_PLANS[TokenUse(args.token_use)],
            username_configuration={"case_sensitive": False},
            admin_create_user_config={"allow_admin_create_user_only": True},
            account_recovery_setting={"recovery_mechanisms": [{"name": "admin_only",
                                                               "priority": 1}]},
            password_policy={"minimum_length": 12, "require_lowercase": True,
                             "require_uppercase": True, "require_numbers": True,
                             "require_symbols": True, "temporary_password_validity_days": 7},
            lambda_config={"pre_token_generation_config": {
                "lambda_arn": self.trigger.arn,
                "lambda_version": TRIGGER_VERSIONS[TokenUse(args.token_use)]}},
            tags=args.tags or None,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect))

        aws.lambda_.Permission(
            f"{name}-pre-token-invoke", action="lambda:InvokeFunction",
            function=self.trigger.function_name, principal="cognito-idp.amazonaws.com",
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
            suffix = random.RandomString(f"{name}-domain-suffix", length=8, special=False,
                                         upper=False, opts=child)
            base = default_domain_base(pulumi.get_project(), pulumi.get_stack())
            domain_name = pulumi.Output.concat(base, "-", suffix.result)
        self.domain = aws.cognito.UserPoolDomain(
            f"{name}-domain", domain=domain_name, user_pool_id=self.user_pool.id, opts=child)

        groups = {g.name: aws.cognito.UserGroup(
            f"{name}-group-{g.name}", user_pool_id=self.user_pool.id, name=g.name,
            description=g.description, precedence=g.precedence, opts=child) for g in args.groups}

        passwords = {}
        for user in args.users:
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
        # RandomPassword.result is secret in a real engine but not under mocks: say so here.
        self.user_passwords = pulumi.Output.secret(passwords)
        self.register_outputs({
            "user_pool_id": self.user_pool_id, "user_pool_arn": self.user_pool_arn,
            "client_id": self.client_id, "issuer_url": self.issuer_url,
            "hosted_ui_url": self.hosted_ui_url, "user_passwords": self.user_passwords})

    @property
    def groups(self) -> tuple[str, ...]:
        return self._groups

    def scope_for(self, group: str) -> pulumi.Output[str]:
        """The scope that membership of ``group`` grants: ``<group>-<appClientId>``."""
        if group not in self._groups:
            raise ValueError(f"unknown group {group!r}; groups are: {', '.join(self._groups)}")
        return self.client.id.apply(lambda client_id: scope_name(group, client_id))
