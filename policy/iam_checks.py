"""IAM policy documents: no wildcard actions, no write action on every resource."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from jwt_scoped import aws_types as t

from .values import UNKNOWN

# An action counts as read-only when its name starts with one of these verbs (IAM service
# authorization reference: the List and Read access levels use them); every other action counts
# as a write, which errs on the side of flagging.
READ_ONLY_VERBS = ("Get", "List", "Describe", "BatchGet", "Lookup", "Search", "Query", "Scan",
                   "Select", "View")


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def is_wildcard_action(action: str) -> bool:
    """``*``, or a whole service (``s3:*``, ``*:...``)."""
    service, _, name = action.partition(":")
    return action == "*" or name == "*" or "*" in service


def is_write_action(action: str) -> bool:
    _, _, name = action.partition(":")
    return not name.lower().startswith(tuple(v.lower() for v in READ_ONLY_VERBS))


def policy_document_problems(document: Any, allowed_on_any_resource: Collection[str] = ()) -> list[str]:
    """Why an IAM policy document (JSON text or a parsed document) allows too much. A document
    that is not known yet (a preview) is checked when it is (``pulumi up`` checks each resource
    before creating it)."""
    if document is UNKNOWN or document is None or document == "":
        return []
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return ["the policy document is not valid JSON"]
    if not isinstance(document, dict):
        return ["the policy document is not a JSON object"]
    allowed = {a.lower() for a in allowed_on_any_resource}
    problems = []
    for i, statement in enumerate(_as_list(document.get("Statement"))):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        label = f"statement {statement.get('Sid') or i}"
        if statement.get("NotAction") is not None:
            problems.append(f"{label} allows every action but those in NotAction")
        actions = [a for a in _as_list(statement.get("Action")) if isinstance(a, str)]
        for action in actions:
            if is_wildcard_action(action):
                problems.append(f"{label} allows {'every action' if action == '*' else 'a whole service'}"
                                f" ({action!r}): name the actions")
        resources = _as_list(statement.get("Resource"))
        if "*" in resources or statement.get("NotResource") is not None:
            writes = [a for a in actions if not is_wildcard_action(a) and is_write_action(a)
                      and a.lower() not in allowed]
            if writes:
                problems.append(f"{label} allows write action(s) {', '.join(writes)} on every "
                                f"resource ('*'): name the resources")
    return problems


def documents(resource_type: str, props: Any) -> list[tuple[str, Any]]:
    """(where, document) for each policy document of an IAM resource's properties."""
    if resource_type in (t.ROLE_POLICY, t.MANAGED_POLICY, t.USER_POLICY, t.GROUP_POLICY):
        return [("policy", props.get("policy"))]
    if resource_type == t.ROLE:
        inline = props.get("inlinePolicies")
        if inline is UNKNOWN:
            return [("inlinePolicies", UNKNOWN)]
        return [(f"inline policy {p.get('name')!r}" if isinstance(p, dict) else "inline policy",
                 p.get("policy") if isinstance(p, dict) else p) for p in inline or ()]
    return []
