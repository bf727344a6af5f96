"""What Cognito sends a Pre Token Generation trigger and what it does with the answer. Pure.

Source: Amazon Cognito Developer Guide, "Pre token generation Lambda trigger" (event versions
V1_0, V2_0 and V3_0, their request and response shapes) and "User pool Lambda trigger common
parameters". The shapes match ``tests/fixtures/trigger_events.py``, the events the trigger's own
tests use.

- V1_0 (``"version": "1"``) customises the ID token: ``claimsOverrideDetails`` with
  ``claimsToAddOrOverride``, ``claimsToSuppress`` and ``groupOverrideDetails``.
- V2_0 and V3_0 (``"2"``, ``"3"``) customise both tokens: ``claimsAndScopeOverrideDetails`` with
  ``idTokenGeneration``, ``accessTokenGeneration`` (which also takes ``scopesToAdd`` and
  ``scopesToSuppress``) and ``groupOverrideDetails``.
- ``groupOverrideDetails`` replaces ``cognito:groups`` in both tokens and ``cognito:roles`` /
  ``cognito:preferred_role`` in the ID token.

Claims that Cognito itself owns (issuer, subject, audience, times, token ids, the username and,
in the access token, ``scope``) are never changed by a trigger's claim maps: the sandbox leaves
them as issued. A response it cannot read fails the sign-in with "Unrecognizable lambda output",
Cognito's message for that case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jwt_scoped import rules

TRIGGER = "PreTokenGeneration"
COGNITO_PRINCIPAL = rules.COGNITO_PRINCIPAL
# Cognito waits at most 5 seconds for a trigger ("Customizing user pool workflows with Lambda
# triggers": a function that does not answer in 5 seconds fails the request).
TRIGGER_TIMEOUT_SECONDS = 5.0
EVENT_VERSIONS = {"V1_0": "1", "V2_0": "2", "V3_0": "3"}
AUTHENTICATION = "TokenGeneration_Authentication"
REFRESH = "TokenGeneration_RefreshTokens"
HOSTED_AUTH = "TokenGeneration_HostedAuth"  # a sign-in through the hosted UI (the code grant)
# A client credentials grant: only a V3_0 trigger is run for it ("Pre token generation Lambda
# trigger": version three "with access token customization for machine-to-machine (M2M)
# client-credentials grants"; versions one and two are not invoked for M2M tokens).
CLIENT_CREDENTIALS = "TokenGeneration_ClientCredentials"
MACHINE_VERSIONS = frozenset({"V3_0"})
SDK_VERSION = "aws-sdk-unknown-unknown"  # what Cognito reports for calls without an SDK header
UNRECOGNIZABLE = "Unrecognizable lambda output"

# Claims a trigger's claim maps do not change (Cognito developer guide, "Excluded claims").
_ALWAYS_KEPT = frozenset({"acr", "amr", "at_hash", "aud", "auth_time", "azp", "client_id",
                          "cognito:username", "event_id", "exp", "iat", "identities", "iss",
                          "jti", "nbf", "nonce", "origin_jti", "sub", "token_use", "username"})
KEPT_CLAIMS = {"id": _ALWAYS_KEPT, "access": _ALWAYS_KEPT | {"scope"}}


class Unrecognizable(ValueError):
    """A trigger answer Cognito cannot apply."""

    def __init__(self, detail: str):
        super().__init__(f"{UNRECOGNIZABLE} ({detail})")


def failure_message(error_message: str) -> str:
    """Cognito's ``UserLambdaValidationException`` message when the trigger ran and failed."""
    return f"{TRIGGER} failed with error {error_message}."


def invocation_failure_message(error_code: str) -> str:
    """... when Cognito could not invoke it at all (``AccessDeniedException`` without a
    permission for ``cognito-idp.amazonaws.com``). Source: AWS re:Post knowledge center,
    "How do I troubleshoot errors related to Lambda triggers in Amazon Cognito?"."""
    return f"{TRIGGER} invocation failed due to error {error_code}."


def event_version(lambda_version: str) -> str:
    """The event's ``version`` for the pool's ``LambdaVersion`` (``V1_0`` -> ``"1"``)."""
    try:
        return EVENT_VERSIONS[lambda_version]
    except KeyError:
        raise ValueError(f"unknown pre token generation LambdaVersion {lambda_version!r}; "
                         f"expected one of {', '.join(EVENT_VERSIONS)}") from None


def pre_token_event(*, version: str, trigger_source: str, region: str, user_pool_id: str,
                    username: str, client_id: str, user_attributes: Mapping[str, str],
                    groups: Sequence[str], iam_roles: Sequence[str] = (),
                    preferred_role: str | None = None,
                    scopes: Sequence[str] = ()) -> dict[str, Any]:
    """The event Cognito sends (``version`` is the event's: ``"1"``, ``"2"`` or ``"3"``)."""
    request: dict[str, Any] = {
        "userAttributes": dict(user_attributes),
        "groupConfiguration": {"groupsToOverride": list(groups),
                               "iamRolesToOverride": list(iam_roles),
                               "preferredRole": preferred_role},
    }
    if version == "1":
        response: dict[str, Any] = {"claimsOverrideDetails": None}
    else:
        request["scopes"] = list(scopes)
        response = {"claimsAndScopeOverrideDetails": None}
    return {"version": version, "triggerSource": trigger_source, "region": region,
            "userPoolId": user_pool_id, "userName": username,
            "callerContext": {"awsSdkVersion": SDK_VERSION, "clientId": client_id},
            "request": request, "response": response}


@dataclass(frozen=True)
class TokenChanges:
    """What one trigger answer does to the two tokens of one issuance."""

    add: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """token use (``id``/``access``) -> claims to add or override."""
    suppress: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """token use -> claims to remove."""
    scopes_to_add: Sequence[str] = ()
    scopes_to_suppress: Sequence[str] = ()
    groups: Sequence[str] | None = None
    """``cognito:groups`` of both tokens, when the trigger overrides them."""
    roles: Sequence[str] | None = None
    preferred_role: str | None = None


def _mapping(value: Any, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Unrecognizable(f"{where} is not an object")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Unrecognizable(f"{where} is not a list of strings")
    return value


def _claims(value: Any, where: str, *, strings_only: bool) -> dict[str, Any]:
    claims = _mapping(value, where)
    if strings_only and not all(isinstance(v, str) for v in claims.values()):
        # V1_0 takes string values only; V2_0/V3_0 also take numbers, booleans, lists and JSON.
        raise Unrecognizable(f"{where} has a value that is not a string")
    return claims


def token_changes(version: str, answer: Any) -> TokenChanges:
    """Read the trigger's answer (the event it returned); ``Unrecognizable`` if Cognito could
    not. An answer with no overrides changes nothing."""
    if not isinstance(answer, dict):
        raise Unrecognizable("the function did not return the event object")
    response = _mapping(answer.get("response"), "response")
    if version == "1":
        details = _mapping(response.get("claimsOverrideDetails"), "claimsOverrideDetails")
        add = {"id": _claims(details.get("claimsToAddOrOverride"),
                             "claimsToAddOrOverride", strings_only=True)}
        suppress = {"id": _strings(details.get("claimsToSuppress"), "claimsToSuppress")}
        scopes_add: list[str] = []
        scopes_suppress: list[str] = []
    else:
        details = _mapping(response.get("claimsAndScopeOverrideDetails"),
                           "claimsAndScopeOverrideDetails")
        id_token = _mapping(details.get("idTokenGeneration"), "idTokenGeneration")
        access = _mapping(details.get("accessTokenGeneration"), "accessTokenGeneration")
        add = {"id": _claims(id_token.get("claimsToAddOrOverride"),
                             "idTokenGeneration.claimsToAddOrOverride", strings_only=False),
               "access": _claims(access.get("claimsToAddOrOverride"),
                                 "accessTokenGeneration.claimsToAddOrOverride",
                                 strings_only=False)}
        suppress = {"id": _strings(id_token.get("claimsToSuppress"),
                                   "idTokenGeneration.claimsToSuppress"),
                    "access": _strings(access.get("claimsToSuppress"),
                                       "accessTokenGeneration.claimsToSuppress")}
        scopes_add = _strings(access.get("scopesToAdd"), "scopesToAdd")
        scopes_suppress = _strings(access.get("scopesToSuppress"), "scopesToSuppress")
    groups = roles = preferred = None
    if details.get("groupOverrideDetails") is not None:
        override = _mapping(details["groupOverrideDetails"], "groupOverrideDetails")
        if override.get("groupsToOverride") is not None:
            groups = _strings(override["groupsToOverride"], "groupsToOverride")
        if override.get("iamRolesToOverride") is not None:
            roles = _strings(override["iamRolesToOverride"], "iamRolesToOverride")
        preferred = override.get("preferredRole")
        if preferred is not None and not isinstance(preferred, str):
            raise Unrecognizable("preferredRole is not a string")
    return TokenChanges(add=add, suppress=suppress, scopes_to_add=scopes_add,
                        scopes_to_suppress=scopes_suppress, groups=groups, roles=roles,
                        preferred_role=preferred)


def apply_changes(changes: TokenChanges, token_use: str, claims: Mapping[str, Any]) -> dict:
    """The claims of a ``token_use`` token after the trigger's answer (``claims`` holds what
    Cognito would write without a trigger, minus the claims it always owns)."""
    kept = KEPT_CLAIMS[token_use]
    out = dict(claims)
    if changes.groups is not None:
        if changes.groups:
            out["cognito:groups"] = list(changes.groups)
        else:
            out.pop("cognito:groups", None)
    if token_use == "id":
        if changes.roles is not None:
            out["cognito:roles"] = list(changes.roles)
        if changes.preferred_role is not None:
            out["cognito:preferred_role"] = changes.preferred_role
    for name in changes.suppress.get(token_use, ()):
        if name not in kept:
            out.pop(name, None)
    for name, value in changes.add.get(token_use, {}).items():
        if name not in kept:
            out[name] = value
    if token_use == "access" and (changes.scopes_to_add or changes.scopes_to_suppress):
        scopes = [s for s in str(out.get("scope", "")).split() if s]
        scopes += [s for s in changes.scopes_to_add if s not in scopes]
        scopes = [s for s in scopes if s not in changes.scopes_to_suppress]
        if scopes:
            out["scope"] = " ".join(scopes)
        else:
            out.pop("scope", None)
    return out
