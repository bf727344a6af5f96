"""HTTP API JWT authorizers and stages: decisions over plain values, and the stack findings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jwt_scoped import aws_types as t
from jwt_scoped import rules
from jwt_scoped.modes import JWT_AUTHORIZATION
from jwt_scoped.rules import MAX_AUDIENCES

from .route_checks import HttpApi, http_apis
from .values import UNKNOWN, Finding, Node, is_set, of_type, referenced

ISSUER_SCHEME = "https://"
# A JWT authorizer reads the token from a request header: `$request.header.<name>` (API Gateway
# developer guide, "Control access to HTTP APIs with JWT authorizers"); the name is an HTTP token
# (RFC 9110 5.1).
_HEADER_SOURCE = re.compile(r"^\$request\.header\.[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

# HTTP API access logs belong in a log group under /aws/vendedlogs/ (why: the rule's source).
VENDED_LOGS_PREFIX = rules.VENDED_LOGS_PREFIX
_LOG_GROUP_ARN = re.compile(r"^arn:aws[a-z-]*:logs:[^:]*:[^:]*:log-group:(?P<name>[^:]+)(:\*)?$")


def jwt_authorizer_problems(issuer: Any, audiences: Any, identity_sources: Any) -> list[str]:
    """Why a JWT authorizer's configuration is unsafe or invalid. Unknown values pass: they are
    checked when known (``pulumi up`` checks each resource again before creating it)."""
    problems = []
    if issuer is None or issuer == "":
        problems.append("the JWT authorizer has no issuer")
    elif isinstance(issuer, str) and not issuer.startswith(ISSUER_SCHEME):
        problems.append(f"issuer {issuer!r} is not an {ISSUER_SCHEME} URL: API Gateway fetches "
                        f"the signing keys from <issuer>/.well-known/jwks.json")
    if audiences is not UNKNOWN:
        count = len(audiences or ())
        if not 1 <= count <= MAX_AUDIENCES:
            problems.append(f"{count} audiences; a JWT authorizer takes 1 to {MAX_AUDIENCES}, and "
                            f"without one it accepts tokens issued to any app client")
    if identity_sources is not UNKNOWN:
        if not identity_sources:
            problems.append("no identity source: a JWT authorizer reads the token from a header "
                            "($request.header.<name>)")
        for source in identity_sources or ():
            if isinstance(source, str) and not _HEADER_SOURCE.match(source):
                problems.append(f"identity source {source!r} is not a request header "
                                f"($request.header.<name>)")
    return problems


@dataclass(frozen=True)
class StageFacts:
    """What the stage rule needs to know about one stage, as plain values."""

    destination: Any
    """``accessLogSettings.destinationArn``: a string, ``None`` or UNKNOWN."""
    log_group: str | None
    """Name of the stack's log group the logs go to; ``None`` when none of the stack's is."""
    retention: Any = None
    """That log group's ``retentionInDays`` (``None``/0: kept forever)."""
    throttling_burst: Any = None
    throttling_rate: Any = None
    auto_deploy: Any = None
    deployment_id: Any = None
    api_has_deployment: bool = False
    """A Deployment resource of the stage's API is in the stack."""


def stage_problems(stage: StageFacts) -> list[str]:
    problems = []
    if not is_set(stage.destination):
        problems.append("access logging is off: set accessLogSettings (destinationArn and format)")
    elif stage.log_group is None:
        where = ("comes from no log group of this stack" if stage.destination is UNKNOWN
                 else f"{stage.destination!r} is no log group of this stack")
        problems.append(f"the access log destination {where}, so its retention cannot be checked")
    elif stage.retention is not UNKNOWN and not stage.retention:
        problems.append(f"access log group {stage.log_group!r} keeps logs forever: set "
                        f"retentionInDays")
    if stage.throttling_burst is None or stage.throttling_rate is None:
        problems.append("default route throttling is not set: set defaultRouteSettings."
                        "throttlingBurstLimit and throttlingRateLimit")
    deploys = (stage.auto_deploy is True or stage.auto_deploy is UNKNOWN
               or is_set(stage.deployment_id) or stage.api_has_deployment)
    if not deploys:
        problems.append("autoDeploy is off and no deployment is given: the stage never serves "
                        "the API's routes")
    return problems


def log_group_location_problem(name: Any) -> str | None:
    """Why an HTTP API access log group's name (or name prefix) is in the wrong place."""
    if not isinstance(name, str) or name.startswith(VENDED_LOGS_PREFIX):
        return None
    return (f"access logs go to log group {name!r}, outside {VENDED_LOGS_PREFIX}: each such group "
            f"grows the account's CloudWatch Logs resource policy (5,120 characters), and once it "
            f"is full enabling logging fails. Name the group under {VENDED_LOGS_PREFIX}")


def log_group_name(destination: Any) -> str | None:
    """The log group name in a CloudWatch Logs log group ARN."""
    match = _LOG_GROUP_ARN.match(destination) if isinstance(destination, str) else None
    return match.group("name") if match else None


# --- stack findings --------------------------------------------------------------------------

def _stages(nodes: Sequence[Node]) -> list[tuple[Node, HttpApi | None]]:
    apis = http_apis(nodes)
    websocket = [a for a in of_type(nodes, t.API) if not any(h.api is a for h in apis)]
    found = []
    for stage in of_type(nodes, t.STAGE):
        if referenced(stage, "apiId", websocket):
            continue
        owner = next((h for h in apis if h.api is not None and referenced(stage, "apiId", [h.api])),
                     None)
        found.append((stage, owner))
    return found


def _group_name(group: Node) -> Any:
    """A log group's name, or its name prefix while the name is not known (a preview)."""
    name = group.get("name")
    return name if isinstance(name, str) else group.get("namePrefix")


def _log_group(stage: Node, groups: Sequence[Node]) -> Node | None:
    destination = stage.get("accessLogSettings", "destinationArn")
    if not is_set(destination):
        return None
    matches = referenced(stage, "accessLogSettings", groups, value=destination)
    return matches[0] if matches else None


def stage_findings(nodes: Sequence[Node]) -> list[Finding]:
    groups = of_type(nodes, t.LOG_GROUP)
    deployments = of_type(nodes, t.DEPLOYMENT)
    findings = []
    for stage, api in _stages(nodes):
        group = _log_group(stage, groups)
        facts = StageFacts(
            destination=stage.get("accessLogSettings", "destinationArn"),
            log_group=(_group_name(group) or group.name) if group else None,
            retention=group.get("retentionInDays") if group else None,
            throttling_burst=stage.get("defaultRouteSettings", "throttlingBurstLimit"),
            throttling_rate=stage.get("defaultRouteSettings", "throttlingRateLimit"),
            auto_deploy=stage.get("autoDeploy"),
            deployment_id=stage.get("deploymentId"),
            api_has_deployment=api is not None and api.api is not None and any(
                referenced(d, "apiId", [api.api]) for d in deployments))
        findings += [Finding(stage.urn, f"stage {stage.get('name')!r}: {p}")
                     for p in stage_problems(facts)]
    return findings


def access_log_location_findings(nodes: Sequence[Node]) -> list[Finding]:
    groups = of_type(nodes, t.LOG_GROUP)
    findings = []
    for stage, _ in _stages(nodes):
        group = _log_group(stage, groups)
        name = (_group_name(group) if group is not None
                else log_group_name(stage.get("accessLogSettings", "destinationArn")))
        if problem := log_group_location_problem(name):
            findings.append(Finding(stage.urn, f"stage {stage.get('name')!r}: {problem}"))
    return findings


def authorizer_problems(props: Any) -> list[str]:
    """The JWT authorizer rule for one ``aws:apigatewayv2/authorizer:Authorizer``'s properties."""
    if props.get("authorizerType") != JWT_AUTHORIZATION:  # JWT or REQUEST
        return []
    config = props.get("jwtConfiguration")
    if config is UNKNOWN:
        return []
    config = config or {}
    return jwt_authorizer_problems(config.get("issuer"), config.get("audiences"),
                                   props.get("identitySources"))
