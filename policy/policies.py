"""The pack's named policies: thin wrappers that turn what the engine hands a policy into plain
values, ask the decision functions, and report each finding against the resource it names.

Enforcement: every policy is mandatory unless the pack's config says otherwise, per policy
(``{"iam-least-privilege": "advisory"}``) or for all (``{"all": "advisory"}``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from jwt_scoped import aws_types as t

from . import (
    api_checks,
    cognito_checks,
    iam_checks,
    lambda_checks,
    machine_checks,
    route_checks,
    settings,
)
from .settings import Option
from .values import Finding, Node, plain

PACK_NAME = "jwt-scoped-api"
PACK_DESCRIPTION = ("Holds stacks built with the jwt-scoped components to the project's "
                    "security rules: route authorization, least privilege, logging, protection.")


def stack_nodes(args: StackValidationArgs) -> list[Node]:
    """The stack's resources as plain nodes: properties with ``UNKNOWN`` for values a preview
    cannot know, and the dependency graph as URNs."""
    return [Node(urn=r.urn, type=r.resource_type, name=r.name, props=plain(r.props),
                 dependencies=frozenset(d.urn for d in r.dependencies),
                 property_dependencies={k: frozenset(d.urn for d in v)
                                        for k, v in r.property_dependencies.items()},
                 parent=r.parent.urn if r.parent is not None else None)
            for r in args.resources]


def _schema(options: Sequence[Option]) -> PolicyConfigSchema | None:
    return PolicyConfigSchema({o.name: o.schema() for o in options}) if options else None


def stack_policy(name: str, description: str, severity: Severity,
                 find: Callable[[list[Node], dict[str, list[str]]], list[Finding]],
                 options: Sequence[Option] = ()) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        config = settings.read(name, options, args.get_config())
        for finding in find(stack_nodes(args), config):
            report_violation(finding.message, finding.urn)

    return StackValidationPolicy(name=name, description=description, validate=validate,
                                 config_schema=_schema(options), severity=severity)


def resource_policy(name: str, description: str, severity: Severity, types: Sequence[str],
                    decide: Callable[[str, Any, dict[str, list[str]]], list[str]],
                    options: Sequence[Option] = ()) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in types:
            return
        config = settings.read(name, options, args.get_config())
        for problem in decide(args.resource_type, plain(args.props), config):
            report_violation(problem)

    return ResourceValidationPolicy(name=name, description=description, validate=validate,
                                    config_schema=_schema(options), severity=severity)


def _route_exceptions(config: dict[str, list[str]]) -> route_checks.RouteExceptions:
    return route_checks.RouteExceptions(frozenset(config[settings.PUBLIC_ROUTES.name]),
                                        frozenset(config[settings.SIGNED_IN_ROUTES.name]))


def _iam_problems(resource_type: str, props: Any, config: dict[str, list[str]]) -> list[str]:
    allowed = config[settings.ALLOWED_ON_ANY_RESOURCE.name]
    return [f"{where}: {problem}" for where, document in iam_checks.documents(resource_type, props)
            for problem in iam_checks.policy_document_problems(document, allowed)]


def _deletion_protection(resource_type: str, props: Any, config: dict[str, list[str]]) -> list[str]:
    problem = cognito_checks.deletion_protection_problem(
        props.get("deletionProtection"), pulumi.get_stack(),
        config[settings.THROWAWAY_STACKS.name])
    return [problem] if problem else []


POLICIES = [
    stack_policy(
        "api-route-authorization",
        "Every route of an HTTP API with a JWT authorizer uses it with 1 to 10 scopes, except CORS "
        "preflight routes and the route keys the config lists as public or signed-in.",
        Severity.HIGH,
        lambda nodes, config: route_checks.route_authorization_findings(
            nodes, _route_exceptions(config)),
        (settings.PUBLIC_ROUTES, settings.SIGNED_IN_ROUTES)),
    stack_policy(
        "api-cors-preflight",
        "On an HTTP API with CORS configured, no route that demands a token answers a CORS "
        "preflight (OPTIONS) request.",
        Severity.MEDIUM,
        lambda nodes, config: route_checks.preflight_findings(nodes)),
    resource_policy(
        "api-jwt-authorizer",
        "Every JWT authorizer has an https:// issuer, 1 to 50 audiences and a request header as "
        "identity source.",
        Severity.HIGH, [t.AUTHORIZER],
        lambda resource_type, props, config: api_checks.authorizer_problems(props)),
    stack_policy(
        "api-stage-settings",
        "HTTP API stages log access to a log group with a retention, set default-route "
        "throttling, and deploy (autoDeploy or a deployment).",
        Severity.MEDIUM,
        lambda nodes, config: api_checks.stage_findings(nodes)),
    stack_policy(
        "api-access-logs-vendedlogs",
        "HTTP API access logs go to a log group named under /aws/vendedlogs/.",
        Severity.MEDIUM,
        lambda nodes, config: api_checks.access_log_location_findings(nodes)),
    stack_policy(
        "api-route-keys-unique",
        "No two routes of one HTTP API share a route key.",
        Severity.MEDIUM,
        lambda nodes, config: route_checks.duplicate_key_findings(nodes)),
    stack_policy(
        "api-routes-admit-someone",
        "Every scope a route demands is granted by a group of the user pool that issues its "
        "tokens, when that pool is in the stack.",
        Severity.MEDIUM,
        lambda nodes, config: route_checks.admits_nobody_findings(nodes)),
    stack_policy(
        "api-machine-scopes-requestable",
        "Every machine scope (<identifier>/<scope>) a route demands is defined by a resource "
        "server of the user pool that issues its tokens and may be requested by an app client "
        "its authorizer admits, when that pool is in the stack.",
        Severity.MEDIUM,
        lambda nodes, config: machine_checks.machine_scope_findings(nodes)),
    stack_policy(
        "lambda-permission-source-arn",
        "Lambda permissions for AWS services name a source ARN: under an API's execution ARN for "
        "API Gateway, a user pool ARN for Cognito.",
        Severity.HIGH,
        lambda nodes, config: lambda_checks.permission_findings(nodes)),
    stack_policy(
        "lambda-function-settings",
        "Lambda functions use a Python runtime Lambda supports, log to a log group with a "
        "retention, and have a role no other function shares.",
        Severity.MEDIUM,
        lambda nodes, config: lambda_checks.function_findings(
            nodes, config[settings.SUPPORTED_RUNTIMES.name]),
        (settings.SUPPORTED_RUNTIMES,)),
    resource_policy(
        "iam-least-privilege",
        "IAM policies allow no '*' or service-wide action, and no write action on every "
        "resource.",
        Severity.HIGH,
        [t.ROLE, t.ROLE_POLICY, t.MANAGED_POLICY, t.USER_POLICY, t.GROUP_POLICY],
        _iam_problems, (settings.ALLOWED_ON_ANY_RESOURCE,)),
    resource_policy(
        "cognito-deletion-protection",
        "Cognito user pools have deletion protection on, except in the stacks the config lists "
        "as throwaway.",
        Severity.HIGH, [t.USER_POOL], _deletion_protection, (settings.THROWAWAY_STACKS,)),
    stack_policy(
        "cognito-trigger-permission",
        "Cognito user pools have a Pre Token Generation trigger that Cognito is allowed to invoke.",
        Severity.HIGH,
        lambda nodes, config: cognito_checks.trigger_findings(nodes)),
    resource_policy(
        "cognito-machine-client-sign-in",
        "App clients that take the client credentials grant let no one sign in: no code or "
        "implicit grant, and ALLOW_REFRESH_TOKEN_AUTH as their only explicit auth flow.",
        Severity.HIGH, [t.USER_POOL_CLIENT],
        lambda resource_type, props, config: machine_checks.machine_client_problems(
            props.get("allowedOauthFlows"), props.get("explicitAuthFlows"))),
    stack_policy(
        "cognito-client-secret-exposure",
        "No stack output holds an app client's secret unless the config lists it as a secret "
        "output, and no other AWS resource holds a copy unless its type is a listed secret store.",
        Severity.HIGH,
        lambda nodes, config: machine_checks.secret_exposure_findings(
            nodes, config[settings.SECRET_OUTPUTS.name], config[settings.SECRET_STORES.name]),
        (settings.SECRET_OUTPUTS, settings.SECRET_STORES)),
]


def pack_arguments() -> dict[str, Any]:
    """What ``PolicyPack(...)`` takes; ``__main__`` and the tests' harness
    (``tests/policy_harness.py``) both use it."""
    return {"name": PACK_NAME, "policies": POLICIES, "description": PACK_DESCRIPTION,
            "enforcement_level": EnforcementLevel.MANDATORY}
