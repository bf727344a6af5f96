"""Lambda permissions and functions: decisions over plain values, and the stack findings."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from jwt_scoped import aws_types as t
from jwt_scoped import rules

from .values import UNKNOWN, Finding, Node, is_set, of_type, referenced

SERVICE_PRINCIPAL_SUFFIX = ".amazonaws.com"
APIGATEWAY = rules.APIGATEWAY_PRINCIPAL
COGNITO = rules.COGNITO_PRINCIPAL
INVOKE = "lambda:InvokeFunction"

# An API's execution ARN is arn:aws:execute-api:<region>:<account>:<apiId>; what lies under it
# adds /<stage>/<method>/<path> (API Gateway developer guide, "Control access to an HTTP API with
# IAM policies"). No wildcard in the region, account or API ID.
_UNDER_EXECUTION_ARN = re.compile(r"^arn:aws[a-z-]*:execute-api:[a-z0-9-]+:\d{12}:[A-Za-z0-9]+/.+$")
# arn:aws:cognito-idp:<region>:<account>:userpool/<region>_<id> (Cognito API reference, UserPoolType).
_USER_POOL_ARN = re.compile(
    r"^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:\d{12}:userpool/[a-z0-9-]+_[A-Za-z0-9]+$")

# Python runtimes Lambda supports (Lambda developer guide, "Lambda runtimes": python3.9 was
# deprecated on 2025-12-15; python3.10 and python3.11 are scheduled for 2026-06-30). The default of
# the lambda-function-settings policy's `supportedRuntimes`; update it as AWS deprecates them.
SUPPORTED_PYTHON_RUNTIMES = ("python3.10", "python3.11", "python3.12", "python3.13", "python3.14")


@dataclass(frozen=True)
class PermissionFacts:
    principal: Any
    source_arn: Any
    """``None`` when absent, UNKNOWN while not known."""
    source_types: frozenset[str] = frozenset()
    """Types of the stack's resources the source ARN's value came from."""
    execution_arns: tuple[str, ...] = ()
    """The known execution ARNs of the stack's APIs."""


def permission_problem(permission: PermissionFacts) -> str | None:
    """Why a Lambda permission lets an AWS service invoke the function on behalf of resources
    that are not ours, or ``None``."""
    principal, source = permission.principal, permission.source_arn
    if not isinstance(principal, str) or not principal.endswith(SERVICE_PRINCIPAL_SUFFIX):
        return None
    if not is_set(source):
        return (f"lets {principal} invoke the function with no source ARN: any such resource, in "
                f"any account, may invoke it. Set sourceArn")
    if principal == APIGATEWAY:
        if source is UNKNOWN:
            return None if t.API in permission.source_types else (
                "the source ARN is unknown until deploy and comes from no API of this stack")
        if any(source.startswith(f"{arn}/") for arn in permission.execution_arns):
            return None
        if _UNDER_EXECUTION_ARN.match(source):
            return None  # an API of another stack, named exactly
        return (f"source ARN {source!r} does not lie under an API's execution ARN "
                f"(arn:aws:execute-api:<region>:<account>:<apiId>/...)")
    if principal == COGNITO:
        if source is UNKNOWN:
            return None if t.USER_POOL in permission.source_types else (
                "the source ARN is unknown until deploy and comes from no user pool of this stack")
        if not _USER_POOL_ARN.match(source):
            return (f"source ARN {source!r} is not a user pool ARN "
                    f"(arn:aws:cognito-idp:<region>:<account>:userpool/<poolId>)")
    return None


def permission_findings(nodes: Sequence[Node]) -> list[Finding]:
    execution_arns = tuple(a for api in of_type(nodes, t.API)
                           if isinstance(a := api.get("executionArn"), str))
    findings = []
    for permission in of_type(nodes, t.PERMISSION):
        urns = permission.property_dependencies.get("sourceArn", frozenset())
        facts = PermissionFacts(permission.get("principal"), permission.get("sourceArn"),
                                frozenset(n.type for n in nodes if n.urn in urns), execution_arns)
        if problem := permission_problem(facts):
            findings.append(Finding(permission.urn, problem))
    return findings


def runtime_problem(runtime: Any, package_type: Any, supported: Collection[str]) -> str | None:
    if runtime is UNKNOWN or package_type == "Image":
        return None  # a container image brings its own runtime
    if not is_set(runtime):
        return "the function has no runtime"
    if runtime not in supported:
        return (f"runtime {runtime!r} is not a Python runtime Lambda supports "
                f"({', '.join(supported)})")
    return None


def log_group_problem(log_group: Any, found: bool, retention: Any) -> str | None:
    """``log_group``: the group the function logs to; ``found``: it is one of the stack's."""
    if log_group is UNKNOWN and not found:
        return None
    if not found:
        return (f"it logs to {log_group!r}, which this stack does not create: Lambda creates it on "
                f"first use and keeps the logs forever. Create the log group with a retention")
    if retention is not UNKNOWN and not retention:
        return f"its log group {log_group!r} keeps logs forever: set retentionInDays"
    return None


def _log_group(function: Node, groups: Sequence[Node]) -> tuple[Any, Node | None]:
    """The log group the function logs to (its name) and the stack's LogGroup, if any."""
    configured = function.get("loggingConfig", "logGroup")
    if is_set(configured):
        found = referenced(function, "loggingConfig", groups, value=configured)
        return configured, (found[0] if found else None)
    name = function.get("name")
    if not isinstance(name, str):
        return UNKNOWN, None
    default = f"/aws/lambda/{name}"  # Lambda's default log group
    return default, next((g for g in groups if g.get("name") == default), None)


def function_findings(nodes: Sequence[Node], supported_runtimes: Collection[str]) -> list[Finding]:
    groups = of_type(nodes, t.LOG_GROUP)
    roles = of_type(nodes, t.ROLE)
    functions = of_type(nodes, t.FUNCTION)
    findings = []
    role_users: dict[str, list[Node]] = {}
    for function in functions:
        if problem := runtime_problem(function.get("runtime"), function.get("packageType"),
                                      supported_runtimes):
            findings.append(Finding(function.urn, problem))
        log_group, group = _log_group(function, groups)
        if problem := log_group_problem(log_group, group is not None,
                                        group.get("retentionInDays") if group else None):
            findings.append(Finding(function.urn, problem))
        role = referenced(function, "role", roles)
        key = role[0].urn if role else function.get("role")
        if isinstance(key, str):
            role_users.setdefault(key, []).append(function)
    for key, users in role_users.items():
        if len(users) > 1:
            role = next((r.name for r in roles if r.urn == key), key)
            for function in users:
                others = ", ".join(f.name for f in users if f is not function)
                findings.append(Finding(function.urn, (
                    f"it shares role {role!r} with {others}: each function needs a role of its "
                    f"own, so that it holds only its own permissions")))
    return findings
