"""The Pre Token Generation trigger: groups in, ``<group>-<appClientId>`` scopes out, never a raise.

Event shapes follow the Amazon Cognito Developer Guide, "Pre token generation Lambda trigger"
(https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html)
and "User pool Lambda trigger common parameters"
(https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-identity-pools-working-with-aws-lambda-triggers.html).
"""

import contextlib
import copy
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jwt_scoped.python_function import PACKAGE_DIR
from jwt_scoped.scope_format import scope_name

from fixtures.trigger_events import CLIENT_ID, V1_EVENT, V2_EVENT
from functions_loader import archive, load_handler

trigger = load_handler("trigger")

USER_TOKEN_SOURCES = [
    "TokenGeneration_HostedAuth",
    "TokenGeneration_Authentication",
    "TokenGeneration_NewPasswordChallenge",
    "TokenGeneration_AuthenticateDevice",
    "TokenGeneration_RefreshTokens",
]

ADMIN_SCOPE = "admin-71ghuul37mresr7h373b704tua"
REGULAR_SCOPE = "regular-71ghuul37mresr7h373b704tua"


def event(template, groups=None, **changes):
    """A deep copy of ``template`` with the given groups and top-level keys replaced."""
    result = copy.deepcopy(template)
    if groups is not None:
        result["request"]["groupConfiguration"]["groupsToOverride"] = groups
    result.update(changes)
    return result


def invoke(evt):
    """Call the handler; return (result, stdout lines)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = trigger.handler(evt, None)
    return result, out.getvalue().splitlines()


def call(evt):
    return invoke(evt)[0]


def v1_scope(result):
    return result["response"]["claimsOverrideDetails"]["claimsToAddOrOverride"]["scope"]


# --- the blog's case -------------------------------------------------------------------------


def test_v1_adminuser_in_admin_and_regular_gets_both_scopes_in_the_id_token():
    result = call(event(V1_EVENT))
    assert result["response"] == {
        "claimsOverrideDetails": {
            "claimsToAddOrOverride": {
                "scope": "admin-71ghuul37mresr7h373b704tua regular-71ghuul37mresr7h373b704tua"
            }
        }
    }


def test_v1_regularuser_gets_only_the_regular_scope():
    result = call(event(V1_EVENT, groups=["regular"], userName="regularuser"))
    assert v1_scope(result) == REGULAR_SCOPE


def test_v1_fills_an_empty_response_too():
    result = call(event(V1_EVENT, response={}))
    assert v1_scope(result) == f"{ADMIN_SCOPE} {REGULAR_SCOPE}"


def test_returns_the_event_object_it_was_given():
    evt = event(V1_EVENT)
    assert trigger.handler(evt, None) is evt


def test_only_the_response_changes():
    evt = event(V1_EVENT)
    before = copy.deepcopy(evt)
    result = call(evt)
    assert {k: v for k, v in result.items() if k != "response"} == {
        k: v for k, v in before.items() if k != "response"
    }


@pytest.mark.parametrize("version", ["2", "3"])
def test_v2_and_v3_scope_the_access_token_only(version):
    """The JWT authorizer takes any token of the pool and client: scopes in the ID token too
    would let an ID token through every route of a `tokenUse: access` stack."""
    result = call(event(V2_EVENT, version=version))
    assert result["response"] == {
        "claimsAndScopeOverrideDetails": {
            "accessTokenGeneration": {"scopesToAdd": [ADMIN_SCOPE, REGULAR_SCOPE]},
        }
    }


def test_v2_regularuser_access_token_gets_only_the_regular_scope():
    result = call(event(V2_EVENT, groups=["regular"]))
    details = result["response"]["claimsAndScopeOverrideDetails"]
    assert details["accessTokenGeneration"]["scopesToAdd"] == [REGULAR_SCOPE]


@pytest.mark.parametrize("source", USER_TOKEN_SOURCES)
def test_every_user_token_trigger_source_is_granted_in_v1(source):
    result = call(event(V1_EVENT, groups=["regular"], triggerSource=source))
    assert v1_scope(result) == REGULAR_SCOPE


@pytest.mark.parametrize("source", USER_TOKEN_SOURCES)
def test_every_user_token_trigger_source_is_granted_in_v2(source):
    result = call(event(V2_EVENT, groups=["regular"], triggerSource=source))
    details = result["response"]["claimsAndScopeOverrideDetails"]
    assert "idTokenGeneration" not in details
    assert details["accessTokenGeneration"]["scopesToAdd"] == [REGULAR_SCOPE]


# --- events it must leave alone ----------------------------------------------------------------


def assert_unchanged(evt):
    before = copy.deepcopy(evt)
    result, lines = invoke(evt)
    assert result == before
    assert lines == ["pre_token_generation scopes_granted=0"]


@pytest.mark.parametrize(
    "source",
    [
        "TokenGeneration_ClientCredentials",  # V3_0 machine-to-machine: no user, no groups
        "PreSignUp_SignUp",
        "PostAuthentication_Authentication",
        "tokengeneration_authentication",
        "",
        None,
        42,
        ["TokenGeneration_Authentication"],
    ],
)
@pytest.mark.parametrize("template", [V1_EVENT, V2_EVENT], ids=["v1", "v2"])
def test_unknown_trigger_source_is_left_alone(source, template):
    assert_unchanged(event(template, triggerSource=source))


@pytest.mark.parametrize("version", ["4", "0", "V2_0", "1.0", "", None, 1, 2, ["1"]])
def test_unknown_version_is_left_alone(version):
    assert_unchanged(event(V1_EVENT, version=version))


@pytest.mark.parametrize("template", [V1_EVENT, V2_EVENT], ids=["v1", "v2"])
def test_no_groups_adds_no_claim(template):
    assert_unchanged(event(template, groups=[]))


PATHS = [
    ("version",),
    ("triggerSource",),
    ("callerContext",),
    ("callerContext", "clientId"),
    ("request",),
    ("request", "groupConfiguration"),
    ("request", "groupConfiguration", "groupsToOverride"),
]


@pytest.mark.parametrize("path", PATHS, ids=".".join)
@pytest.mark.parametrize("template", [V1_EVENT, V2_EVENT], ids=["v1", "v2"])
def test_missing_key_at_any_level_is_left_alone(path, template):
    evt = event(template)
    parent = evt
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    assert_unchanged(evt)


WRONG_TYPES = [None, 7, 1.5, True, "text", ["x"], {"unrelated": "x"}]
WRONG_TYPE_CASES = [
    (path, value)
    for path in PATHS
    for value in WRONG_TYPES
    # a string is a valid client id and a list a valid group list: not wrong types there
    if not (path[-1] == "clientId" and isinstance(value, str))
    and not (path[-1] == "groupsToOverride" and isinstance(value, list))
]


@pytest.mark.parametrize("path, value", WRONG_TYPE_CASES, ids=repr)
def test_wrong_type_at_any_level_is_left_alone(path, value):
    evt = event(V2_EVENT)
    parent = evt
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    assert_unchanged(evt)


def test_groups_as_a_string_are_not_split_into_letters():
    assert_unchanged(event(V1_EVENT, groups="admin"))


def test_groups_as_a_mapping_grant_nothing_for_its_keys():
    assert_unchanged(event(V1_EVENT, groups={"admin": True, "regular": True}))


@pytest.mark.parametrize(
    "client_id", ["", " ", "abc def", "abc\tdef", "abc\n", None, 123, [CLIENT_ID]]
)
def test_bad_client_id_is_left_alone(client_id):
    evt = event(V1_EVENT)
    evt["callerContext"]["clientId"] = client_id
    assert_unchanged(evt)


@pytest.mark.parametrize(
    "not_an_event", [None, [], [V1_EVENT], "TokenGeneration_Authentication", 0, b"{}"]
)
def test_something_that_is_not_an_event_comes_back_as_is(not_an_event):
    result, lines = invoke(not_an_event)
    assert result is not_an_event
    assert lines == ["pre_token_generation scopes_granted=0"]


# --- what counts as a group ----------------------------------------------------------------------


def test_only_non_empty_whitespace_free_strings_are_groups():
    groups = ["admin", "has space", "tab\there", "new\nline", "", None, 7, 1.5, True]
    groups += [["regular"], {"regular": 1}, "regular"]
    result = call(event(V1_EVENT, groups=groups))
    assert v1_scope(result) == f"{ADMIN_SCOPE} {REGULAR_SCOPE}"


@pytest.mark.parametrize("template", [V1_EVENT, V2_EVENT], ids=["v1", "v2"])
def test_groups_that_are_all_invalid_add_no_claim(template):
    assert_unchanged(event(template, groups=["", " ", "a b", None, 3, ["admin"]]))


def test_duplicates_are_dropped_and_first_seen_order_kept():
    result = call(event(V2_EVENT, groups=["regular", "admin", "regular", "admin"]))
    details = result["response"]["claimsAndScopeOverrideDetails"]
    assert details["accessTokenGeneration"]["scopesToAdd"] == [REGULAR_SCOPE, ADMIN_SCOPE]


# --- the response it writes into -----------------------------------------------------------------


def test_v1_keeps_what_the_response_already_had():
    group_override = {"groupsToOverride": ["admin"], "iamRolesToOverride": [], "preferredRole": None}
    evt = event(
        V1_EVENT,
        response={
            "claimsOverrideDetails": {
                "claimsToAddOrOverride": {"department": "ops"},
                "claimsToSuppress": ["email"],
                "groupOverrideDetails": group_override,
            },
            "somethingElse": {"kept": True},
        },
    )
    result = call(evt)
    assert result["response"] == {
        "claimsOverrideDetails": {
            "claimsToAddOrOverride": {"department": "ops", "scope": f"{ADMIN_SCOPE} {REGULAR_SCOPE}"},
            "claimsToSuppress": ["email"],
            "groupOverrideDetails": group_override,
        },
        "somethingElse": {"kept": True},
    }


def test_v2_keeps_what_the_response_already_had_and_appends_scopes():
    evt = event(
        V2_EVENT,
        response={
            "claimsAndScopeOverrideDetails": {
                "idTokenGeneration": {"claimsToSuppress": ["email"]},
                "accessTokenGeneration": {
                    "claimsToAddOrOverride": {"tier": "gold"},
                    "scopesToAdd": ["orders/read", ADMIN_SCOPE],
                    "scopesToSuppress": ["phone"],
                },
                "groupOverrideDetails": None,
            }
        },
    )
    result = call(evt)
    assert result["response"] == {
        "claimsAndScopeOverrideDetails": {
            "idTokenGeneration": {"claimsToSuppress": ["email"]},
            "accessTokenGeneration": {
                "claimsToAddOrOverride": {"tier": "gold"},
                "scopesToAdd": ["orders/read", ADMIN_SCOPE, REGULAR_SCOPE],
                "scopesToSuppress": ["phone"],
            },
            "groupOverrideDetails": None,
        }
    }


@pytest.mark.parametrize("response", [None, "missing"])
def test_absent_response_is_created(response):
    evt = event(V1_EVENT)
    if response == "missing":
        del evt["response"]
    else:
        evt["response"] = response
    assert v1_scope(call(evt)) == f"{ADMIN_SCOPE} {REGULAR_SCOPE}"


@pytest.mark.parametrize(
    "template, response",
    [
        (V1_EVENT, "text"),
        (V1_EVENT, ["claimsOverrideDetails"]),
        (V1_EVENT, {"claimsOverrideDetails": "text"}),
        (V1_EVENT, {"claimsOverrideDetails": {"claimsToAddOrOverride": ["scope"]}}),
        (V2_EVENT, {"claimsAndScopeOverrideDetails": 5}),
        (V2_EVENT, {"claimsAndScopeOverrideDetails": {"accessTokenGeneration": "x"}}),
        (V2_EVENT, {"claimsAndScopeOverrideDetails": {"accessTokenGeneration": []}}),
        (V2_EVENT, {"claimsAndScopeOverrideDetails": {"accessTokenGeneration": {"scopesToAdd": "a b"}}}),
    ],
)
def test_response_it_cannot_write_into_is_left_whole(template, response):
    assert_unchanged(event(template, response=response))


def test_v2_leaves_whatever_the_id_token_part_holds():
    result = call(event(V2_EVENT, response={"claimsAndScopeOverrideDetails": {
        "idTokenGeneration": "x"}}))
    assert result["response"]["claimsAndScopeOverrideDetails"] == {
        "idTokenGeneration": "x", "accessTokenGeneration": {"scopesToAdd": [ADMIN_SCOPE, REGULAR_SCOPE]}}


# --- logging ---------------------------------------------------------------------------------------


def test_logs_one_line_with_the_count_and_nothing_about_the_user():
    evt = event(V2_EVENT)
    _, lines = invoke(evt)
    assert lines == ["pre_token_generation scopes_granted=2"]
    log = "\n".join(lines)
    for private in ("adminuser", "adminuser@example.com", "0b0a57c5-f013-426a-81a1-f8ffbfba21f0", CLIENT_ID):
        assert private not in log


def test_an_unexpected_error_is_logged_and_swallowed(monkeypatch):
    def broken(group, client_id):
        raise RuntimeError("boom")

    monkeypatch.setattr(trigger, "scope_name", broken)
    evt = event(V1_EVENT)
    before = copy.deepcopy(evt)
    result, lines = invoke(evt)
    assert result == before
    assert lines == ["pre_token_generation scopes_granted=0 error=RuntimeError"]


# --- one definition of the scope format ---------------------------------------------------------------


def test_handler_takes_the_format_from_the_shipped_scope_format_module():
    shipped = sys.modules[trigger.scope_name.__module__]
    assert trigger.scope_name.__module__ == "scope_format"
    assert Path(shipped.__file__).read_text() == (PACKAGE_DIR / "scope_format.py").read_text()
    assert Path(shipped.__file__).parent == Path(trigger.__file__).parent  # beside the handler


def test_handler_follows_scope_format_rather_than_its_own_copy(monkeypatch):
    monkeypatch.setattr(trigger, "scope_name", lambda group, client_id: f"{client_id}:{group}")
    result = call(event(V1_EVENT, groups=["admin"]))
    assert v1_scope(result) == f"{CLIENT_ID}:admin"


def test_deployment_package_of_handler_and_scope_format_runs_on_the_stdlib_alone(tmp_path):
    files = archive("trigger")
    assert set(files) == {"handler.py", "scope_format.py"}
    for name, path in files.items():
        shutil.copy(path, tmp_path / name)
    program = (
        "import json, sys; sys.path.insert(0, '.'); import handler; "
        "print(json.dumps(handler.handler(json.loads(sys.stdin.read()), None)))"
    )
    # -I: no user site, no PYTHON* variables, cwd not on the path; -S: no site-packages at all.
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", program],
        cwd=tmp_path,
        input=json.dumps(V1_EVENT),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    log, output = done.stdout.splitlines()
    assert log == "pre_token_generation scopes_granted=2"
    assert v1_scope(json.loads(output)) == f"{ADMIN_SCOPE} {REGULAR_SCOPE}"


# --- properties ----------------------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)

EVENT_KEYS = [
    "version", "triggerSource", "callerContext", "clientId", "request", "groupConfiguration",
    "groupsToOverride", "response", "claimsOverrideDetails", "claimsToAddOrOverride",
    "claimsAndScopeOverrideDetails", "idTokenGeneration", "accessTokenGeneration", "scopesToAdd",
]
LIKELY_STRINGS = ["1", "2", "3", "admin", "regular", "", " ", "a b", CLIENT_ID, *USER_TOKEN_SOURCES]

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(LIKELY_STRINGS)
)
json_values = st.recursive(
    json_leaves,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(EVENT_KEYS) | st.text(max_size=8), children, max_size=5),
    max_leaves=20,
)
groups_lists = st.lists(
    st.sampled_from(["admin", "regular", "", "a b", "\t"]) | st.text(max_size=8) | json_leaves | json_values,
    max_size=6,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


@st.composite
def mutated_events(draw):
    """A well-formed V1/V2/V3 event with random groups, then 1-3 keys deleted or replaced."""
    template = draw(st.sampled_from([V1_EVENT, V2_EVENT]))
    evt = event(template, groups=draw(groups_lists), triggerSource=draw(st.sampled_from(USER_TOKEN_SOURCES)))
    if template is V2_EVENT:
        evt["version"] = draw(st.sampled_from(["2", "3"]))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(sorted(_paths(evt), key=repr)))
        if not path:
            return draw(json_values)
        parent = evt
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return evt


@st.composite
def well_formed_events(draw):
    template = draw(st.sampled_from([V1_EVENT, V2_EVENT]))
    evt = event(template, groups=draw(groups_lists), triggerSource=draw(st.sampled_from(USER_TOKEN_SOURCES)))
    evt["callerContext"]["clientId"] = draw(st.sampled_from([CLIENT_ID, "1example23456789"]))
    if template is V2_EVENT:
        evt["version"] = draw(st.sampled_from(["2", "3"]))
    return evt


any_events = json_values | mutated_events() | well_formed_events()


def _get(value, *keys):
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def granted_scopes(before, after):
    """Every scope the handler added to ``before`` to give ``after``."""
    granted = []
    for path in (
        ("claimsOverrideDetails", "claimsToAddOrOverride", "scope"),
        ("claimsAndScopeOverrideDetails", "idTokenGeneration", "claimsToAddOrOverride", "scope"),
    ):
        claim = _get(after.get("response"), *path)
        if claim is not None and claim != _get(before.get("response"), *path):
            granted.extend(claim.split(" "))
    path = ("claimsAndScopeOverrideDetails", "accessTokenGeneration", "scopesToAdd")
    added = _get(after.get("response"), *path)
    already = _get(before.get("response"), *path)
    if isinstance(added, list) and added != already:
        already = already if isinstance(already, list) else []
        granted.extend(s for s in added if s not in already)
    return granted


@PROPERTY_SETTINGS
@given(any_events)
def test_property_never_raises_and_never_needs_the_safety_net(evt):
    before = copy.deepcopy(evt)
    result, lines = invoke(evt)
    assert result is evt
    assert len(lines) == 1
    assert "error=" not in lines[0], f"the catch-all fired for {before!r}"


@PROPERTY_SETTINGS
@given(any_events)
def test_property_every_scope_granted_belongs_to_a_group_of_the_event(evt):
    before = copy.deepcopy(evt)
    result = call(evt)
    if not isinstance(before, dict):
        assert result is evt and result == before
        return
    assert {k: v for k, v in result.items() if k != "response"} == {
        k: v for k, v in before.items() if k != "response"
    }
    granted = granted_scopes(before, result)
    if not granted:
        assert result == before, "something changed though no scope was granted"
        return
    groups = _get(before, "request", "groupConfiguration", "groupsToOverride")
    client_id = _get(before, "callerContext", "clientId")
    assert before.get("triggerSource") in USER_TOKEN_SOURCES
    assert isinstance(groups, list) and isinstance(client_id, str)
    allowed = {scope_name(g, client_id) for g in groups if isinstance(g, str)}
    for scope in granted:
        assert scope in allowed
        assert scope and scope.split() == [scope]


@PROPERTY_SETTINGS
@given(well_formed_events())
def test_property_claim_is_group_dash_client_id_for_each_distinct_valid_group(evt):
    client_id = evt["callerContext"]["clientId"]
    groups = evt["request"]["groupConfiguration"]["groupsToOverride"]
    valid = [g for g in groups if isinstance(g, str) and g and g.split() == [g]]
    expected = list(dict.fromkeys(f"{g}-{client_id}" for g in valid))
    before = copy.deepcopy(evt)
    result = call(evt)
    if not expected:
        assert result == before
    elif result["version"] == "1":
        assert v1_scope(result) == " ".join(expected)
    else:
        details = result["response"]["claimsAndScopeOverrideDetails"]
        assert "claimsToAddOrOverride" not in (details.get("idTokenGeneration") or {})
        assert details["accessTokenGeneration"]["scopesToAdd"] == expected


scope_tokens = st.text(min_size=1, max_size=20).filter(lambda s: s.split() == [s])


@PROPERTY_SETTINGS
@given(group=scope_tokens, client_id=scope_tokens)
def test_property_components_scope_name_and_the_trigger_agree_on_the_format(group, client_id):
    evt = event(V1_EVENT, groups=[group])
    evt["callerContext"]["clientId"] = client_id
    assert scope_name(group, client_id) == f"{group}-{client_id}"
    assert v1_scope(call(evt)) == scope_name(group, client_id)
