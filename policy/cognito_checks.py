"""Cognito user pools: deletion protection, and a Pre Token Generation trigger Cognito may invoke."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from jwt_scoped import aws_types as t

from .lambda_checks import COGNITO, INVOKE
from .values import UNKNOWN, Finding, Node, dig, of_type, referenced, refers_to

PROTECTED = "ACTIVE"  # UserPool DeletionProtection: ACTIVE | INACTIVE (default INACTIVE)


def deletion_protection_problem(value: Any, stack: str, throwaway_stacks: Collection[str]) -> str | None:
    if value is UNKNOWN or value == PROTECTED or stack in throwaway_stacks:
        return None
    return (f"deletion protection is {value or 'INACTIVE (the default)'}: deleting or replacing "
            f"the pool deletes every user in it. Set deletionProtection to {PROTECTED} "
            f"(protectUserPool: true), or list stack {stack!r} in throwawayStacks if it is one")


def trigger_arn(lambda_config: Any) -> Any:
    """The Pre Token Generation function ARN of a pool's ``lambdaConfig``: the versioned
    ``preTokenGenerationConfig.lambdaArn`` or the legacy ``preTokenGeneration``."""
    arn = dig(lambda_config, "preTokenGenerationConfig", "lambdaArn")
    return arn if arn is not None else dig(lambda_config, "preTokenGeneration")


def _function_name(arn: str) -> str:
    # arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
    parts = arn.split(":")
    return parts[6] if len(parts) > 6 and parts[5] == "function" else arn


def _names_function(permission: Node, functions: Sequence[Node], arn: Any) -> bool:
    if any(refers_to(permission, "function", f) for f in functions):
        return True
    value = permission.get("function")
    return isinstance(arn, str) and isinstance(value, str) and value in (arn, _function_name(arn))


def trigger_findings(nodes: Sequence[Node]) -> list[Finding]:
    functions = of_type(nodes, t.FUNCTION)
    permissions = [p for p in of_type(nodes, t.PERMISSION)
                   if p.get("principal") == COGNITO and p.get("action") in (INVOKE, UNKNOWN)]
    findings = []
    for pool in of_type(nodes, t.USER_POOL):
        config = pool.get("lambdaConfig")
        arn = trigger_arn(config)
        if config is UNKNOWN or (arn is UNKNOWN and not pool.property_dependencies.get("lambdaConfig")):
            continue
        if arn is None:
            findings.append(Finding(pool.urn, (
                "the pool has no Pre Token Generation trigger, so its tokens carry no group "
                "scopes and every scoped route refuses them")))
            continue
        triggers = referenced(pool, "lambdaConfig", functions, value=arn)
        if isinstance(arn, str):  # a known ARN names one function: drop other triggers' functions
            triggers = [f for f in triggers if f.get("arn") in (arn, None, UNKNOWN)] or triggers
        allowed = [p for p in permissions
                   if refers_to(p, "sourceArn", pool) and _names_function(p, triggers, arn)]
        if not allowed:
            what = ", ".join(f.name for f in triggers) or repr(arn)
            findings.append(Finding(pool.urn, (
                f"Cognito may not invoke the Pre Token Generation trigger {what}: no "
                f"lambda:InvokeFunction permission for {COGNITO} on it with this pool as source "
                f"ARN, so no one can sign in")))
    return findings
