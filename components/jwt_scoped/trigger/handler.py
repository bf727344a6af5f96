"""Cognito Pre Token Generation trigger: the user's groups become scopes ``<group>-<appClientId>``.

V1_0 events (``tokenUse: id``) put them in the ID token's ``scope`` claim; V2_0 and V3_0 events
(``tokenUse: access``) add them to the access token's scopes and leave the ID token alone.

Ships with ``scope_format.py`` (a copy of ``components/scope_format.py``) beside it. Stdlib only.

A failing trigger stops every sign-in, so this never raises: an event it does not understand is
returned unchanged, with no scope granted.
Event shapes: https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html
"""

import copy

from scope_format import scope_name

# The documented triggerSource values that issue tokens to a signed-in user. Not granted on
# purpose: TokenGeneration_ClientCredentials (V3_0 only, machine-to-machine: no user, no groups).
USER_TOKEN_SOURCES = frozenset(
    {
        "TokenGeneration_HostedAuth",
        "TokenGeneration_Authentication",
        "TokenGeneration_NewPasswordChallenge",
        "TokenGeneration_AuthenticateDevice",
        "TokenGeneration_RefreshTokens",
    }
)
# Event "version" as Cognito sends it: "1" for the V1_0 trigger (ID token only); "2" (V2_0) and "3"
# (V3_0) share one request/response shape that can add access-token scopes.
ID_TOKEN_ONLY_VERSIONS = frozenset({"1"})
ACCESS_TOKEN_VERSIONS = frozenset({"2", "3"})


def handler(event, context):
    try:
        granted = _grant_scopes(event)
    except Exception as error:  # noqa: BLE001 -- a raise here would stop every sign-in
        print(f"pre_token_generation scopes_granted=0 error={type(error).__name__}")
        return event
    print(f"pre_token_generation scopes_granted={granted}")
    return event


def _grant_scopes(event):
    """Write the scope claim into ``event["response"]``; return how many scopes it grants."""
    if not isinstance(event, dict) or not _is_one_of(event.get("triggerSource"), USER_TOKEN_SOURCES):
        return 0
    version = event.get("version")
    if not _is_one_of(version, ID_TOKEN_ONLY_VERSIONS | ACCESS_TOKEN_VERSIONS):
        return 0
    scopes = _scopes(event)
    if not scopes:
        return 0
    response = _writable(event.get("response"))
    if response is None:
        return 0
    # Work on a copy and swap it in only when every level on the way was writable.
    response = copy.deepcopy(response)
    if version in ID_TOKEN_ONLY_VERSIONS:
        claims = _child(response, "claimsOverrideDetails", "claimsToAddOrOverride")
        if claims is None:
            return 0
        claims["scope"] = " ".join(scopes)
    else:
        # Access tokens only: the JWT authorizer cannot tell an ID token from an access token,
        # so a scope written into both would let either token through (see docs/components.md,
        # "Which token carries the scopes"). The ID token keeps its cognito:groups claim.
        access = _child(response, "claimsAndScopeOverrideDetails", "accessTokenGeneration")
        if access is None:
            return 0
        already = access.get("scopesToAdd")
        if already is None:
            already = []
        if not isinstance(already, list):
            return 0
        # scopesToAdd is the V2_0/V3_0 field that appends to the access token's "scope" claim.
        access["scopesToAdd"] = already + [s for s in scopes if s not in already]
    event["response"] = response
    return len(scopes)


def _scopes(event):
    """The scopes for the event's groups and app client, de-duplicated, in group order."""
    request = event.get("request")
    caller = event.get("callerContext")
    if not isinstance(request, dict) or not isinstance(caller, dict):
        return []
    group_configuration = request.get("groupConfiguration")
    if not isinstance(group_configuration, dict):
        return []
    groups = group_configuration.get("groupsToOverride")
    client_id = caller.get("clientId")
    if not isinstance(groups, list) or not _is_token(client_id):
        return []
    return list(dict.fromkeys(scope_name(g, client_id) for g in groups if _is_token(g)))


def _is_one_of(value, names):
    return isinstance(value, str) and value in names  # a list or dict here is not hashable


def _is_token(value):
    """A non-empty string with no whitespace: safe inside a space-separated scope claim."""
    return isinstance(value, str) and value != "" and not any(c.isspace() for c in value)


def _writable(value):
    """``value`` as a dict to write into: a fresh one if it is absent (None), None if it is not a dict."""
    if value is None:
        return {}
    return value if isinstance(value, dict) else None


def _child(parent, *keys):
    """The dict at ``parent[k1][k2]...``, creating absent (None) levels; None if any level is not a dict."""
    for key in keys:
        if parent is None:
            return None
        child = _writable(parent.get(key))
        if child is not None:
            parent[key] = child
        parent = child
    return parent
