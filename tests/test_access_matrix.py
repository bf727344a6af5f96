"""The expected access matrix and the reviewer's warnings: the program run under Pulumi's mocks
with a config, its resources read back into a ``StackModel``, the matrix built from that."""

from __future__ import annotations

import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from jwt_scoped import aws_types as T
from jwt_scoped.access.matrix import (
    ANONYMOUS,
    API_GATEWAY,
    CLIENT_ID_PLACEHOLDER,
    HEADER_WARNING_BYTES,
    UNAUTHORIZED,
    Caller,
    Cell,
    Route,
    build_matrix,
    expected_status,
    findings,
)
from jwt_scoped.access.model import resources_of_run, stack_model
from jwt_scoped.access.token_size import (
    KID_CHARS,
    authorization_header_bytes,
    estimated_claims,
    token_length,
)
from jwt_scoped.modes import RouteAccess
from jwt_scoped.rules import MAX_REQUEST_LINE_AND_HEADERS_BYTES
from jwt_scoped.scope_format import scope_name

from access_configs import matrix_of, run_of, small_config
from fixtures.stacks import NS, PROJECT, scaled_config
from functions_loader import load_handler

CORS = "https://app.example.com"


def statuses(matrix) -> dict[tuple[str, str], int]:
    return {(c.caller, c.route): c.status for c in matrix.cells}


def kinds(matrix) -> list[tuple[str, str]]:
    return [(w.kind, w.subject) for w in matrix.warnings]


def with_routes(config: dict, *routes: dict) -> dict:
    config[f"{NS}:routes"] = [*config[f"{NS}:routes"], *routes]
    return config


# ---- the blog ---------------------------------------------------------------------------

def test_the_blog_stack_file_gives_the_blog_results():
    matrix = matrix_of(PROJECT.stack_config(PROJECT.stack_file("dev")))
    assert statuses(matrix) == {
        ("adminuser", "GET /AdminUser"): 200, ("adminuser", "GET /RegularUser"): 200,
        ("regularuser", "GET /AdminUser"): 403, ("regularuser", "GET /RegularUser"): 200,
        (ANONYMOUS, "GET /AdminUser"): 401, (ANONYMOUS, "GET /RegularUser"): 401,
    }
    assert [c.name for c in matrix.callers] == ["adminuser", "regularuser", ANONYMOUS]
    assert [r.key for r in matrix.routes] == ["GET /AdminUser", "GET /RegularUser"]
    assert matrix.token_use == "id" and matrix.stage_name == "Test"
    assert matrix.warnings == ()
    # The browser app's origin: API Gateway answers each route's preflight itself.
    assert matrix.cors_origin == "http://localhost:3000"
    assert [(p.route, p.answered_by, p.status) for p in matrix.preflights] == [
        ("GET /AdminUser", API_GATEWAY, 204), ("GET /RegularUser", API_GATEWAY, 204)]


# ---- API Gateway's rule -----------------------------------------------------------------

@pytest.mark.parametrize(("access", "route_scopes", "token_scopes", "status"), [
    ("groups", ["admin-c"], None, 401),                     # no valid token
    ("groups", ["admin-c"], [], 403),                       # signed in, no scope at all
    ("groups", ["admin-c"], ["regular-c"], 403),            # signed in, another group's scope
    ("groups", ["admin-c"], ["admin-other"], 403),          # admin, but for another app client
    ("groups", ["admin-c"], ["regular-c", "admin-c"], 200),
    ("groups", ["viewer-c", "editor-c"], ["editor-c"], 200),  # any one of the route's scopes
    ("signed-in", [], None, 401),
    ("signed-in", [], [], 200),                             # any valid token, even without scopes
    ("signed-in", [], ["admin-c"], 200),
    ("public", [], None, 200),                              # no authorizer: no token needed
    ("public", [], ["admin-c"], 200),
])
def test_expected_status_is_api_gateways_rule_on_scopes(access, route_scopes, token_scopes,
                                                        status):
    assert expected_status(RouteAccess(access), route_scopes, token_scopes) == status


# ---- scopes and ids ---------------------------------------------------------------------

def test_scopes_show_the_client_id_as_a_placeholder_built_by_the_one_scope_format():
    matrix = matrix_of(small_config())
    admin = matrix.route("GET /AdminUser")
    assert admin.groups == ("admin",)
    assert admin.scopes == (scope_name("admin", CLIENT_ID_PLACEHOLDER),) == ("admin-<appClientId>",)
    adminuser = matrix.callers[0]
    assert adminuser.scopes == tuple(scope_name(g, CLIENT_ID_PLACEHOLDER)
                                     for g in ("admin", "regular"))


def test_each_cell_names_the_scopes_that_admit_the_caller_and_only_for_a_200():
    matrix = matrix_of(small_config())
    assert matrix.cell("adminuser", "GET /AdminUser").scopes == ("admin-<appClientId>",)
    assert matrix.cell("adminuser", "GET /RegularUser").scopes == ("regular-<appClientId>",)
    assert matrix.cell("regularuser", "GET /AdminUser").scopes == ()
    assert matrix.cell(ANONYMOUS, "GET /RegularUser").scopes == ()


def test_without_placeholders_scopes_carry_the_app_client_id_of_the_run():
    config = small_config()
    client_id = run_of(config).one(T.USER_POOL_CLIENT).id
    matrix = matrix_of(config, placeholders=False)
    assert matrix.route("GET /AdminUser").scopes == (scope_name("admin", client_id),)
    assert matrix.callers[0].scopes == (scope_name("admin", client_id),
                                        scope_name("regular", client_id))


def test_routes_and_callers_carry_the_urns_of_the_resources_the_program_registered():
    """How verify finds them again in a deployed stack."""
    config = small_config()
    run = run_of(config)
    matrix = matrix_of(config)
    route_urns = {r.inputs["routeKey"]: r.urn for r in run.of_type(T.ROUTE)}
    assert {r.key: r.urn for r in matrix.routes} == route_urns
    user_urns = {r.inputs["username"]: r.urn for r in run.of_type(T.USER)}
    client_urn = run.one(T.USER_POOL_CLIENT).urn
    assert {c.name: (c.user_urn, c.client_urn) for c in matrix.users} == {
        name: (urn, client_urn) for name, urn in user_urns.items()}


def test_the_access_token_stack_reads_its_token_use_from_the_pools_trigger():
    matrix = matrix_of(small_config(tokenUse="access"))
    assert (matrix.token_use, matrix.other_token) == ("access", "id")
    assert statuses(matrix) == statuses(matrix_of(small_config()))  # same users, same routes


# ---- the scaled stack -------------------------------------------------------------------

def test_the_scaled_stack_routes_with_several_groups_params_and_any():
    config = scaled_config()
    matrix = matrix_of(config)
    got = statuses(matrix)
    assert got[("alice", "POST /documents/{id}")] == 200     # admin, one of two groups
    assert got[("erin", "POST /documents/{id}")] == 200      # editor, the other
    assert got[("victor", "POST /documents/{id}")] == 403
    assert got[("nobody", "GET /RegularUser")] == 403        # no groups: signed in, no scope
    assert got[(ANONYMOUS, "ANY /admin/{proxy+}")] == 401
    routes = {r.key: r for r in matrix.routes}
    assert (routes["POST /documents/{id}"].method, routes["POST /documents/{id}"].path) == (
        "POST", "/documents/sample")
    assert (routes["ANY /admin/{proxy+}"].method, routes["ANY /admin/{proxy+}"].path) == (
        "GET", "/admin/sample")
    # The configured routes only, in config order: not the OPTIONS routes CORS adds.
    assert [r.key for r in matrix.routes] == [r["route"] for r in config[f"{NS}:routes"]]
    users = [u["username"] for u in config[f"{NS}:users"]]
    assert [c.name for c in matrix.callers] == [*users, ANONYMOUS]
    assert len(matrix.cells) == len(matrix.callers) * len(matrix.routes)
    assert (matrix.token_use, matrix.stage_name) == ("access", "$default")


def test_public_routes_admit_everyone_and_signed_in_routes_every_user():
    got = statuses(matrix_of(scaled_config()))
    assert {got[(c, "GET /health")] for c in ("alice", "nobody", ANONYMOUS)} == {200}
    assert [got[(c, "GET /me")] for c in ("alice", "nobody", ANONYMOUS)] == [200, 200, 401]


def test_each_users_header_estimate_is_the_token_size_estimate_for_its_groups():
    config = scaled_config()
    matrix = matrix_of(config)
    for user in config[f"{NS}:users"]:
        caller = next(c for c in matrix.callers if c.name == user["username"])
        assert caller.header_bytes == authorization_header_bytes(
            "access", user["username"], user.get("groups", []))
    assert matrix.callers[-1].header_bytes is None


# ---- CORS preflights --------------------------------------------------------------------

def test_with_cors_a_preflight_no_route_matches_is_answered_by_api_gateway():
    matrix = matrix_of(scaled_config())
    assert matrix.cors_origin == CORS
    answers = {p.route: (p.path, p.method, p.answered_by, p.status) for p in matrix.preflights}
    assert answers["GET /AdminUser"] == ("/AdminUser", "GET", API_GATEWAY, 204)
    assert answers["POST /documents/{id}"] == ("/documents/sample", "POST", API_GATEWAY, 204)
    assert list(answers) == [r.key for r in matrix.routes]  # one per distinct request
    assert matrix_of(small_config()).preflights == ()  # no CORS, no preflights


def test_a_preflight_an_any_route_would_catch_is_answered_by_the_components_options_route():
    """``ANY /admin/{proxy+}`` demands a token and would catch ``OPTIONS /admin/sample``; the
    component adds a public ``OPTIONS /admin/{proxy+}`` served by its preflight function, whose
    answer is the status to expect."""
    config = scaled_config()
    registered = {r.inputs["routeKey"] for r in run_of(config).of_type(T.ROUTE)}
    assert "OPTIONS /admin/{proxy+}" in registered
    preflight_answer = load_handler("preflight").handler({}, None)["statusCode"]
    preflight = next(p for p in matrix_of(config).preflights if p.route == "ANY /admin/{proxy+}")
    assert (preflight.path, preflight.answered_by) == ("/admin/sample", "OPTIONS /admin/{proxy+}")
    assert preflight.status == preflight_answer


def test_a_public_any_route_answers_preflights_with_its_own_function():
    config = with_routes(small_config(corsOrigins=[CORS]),
                         {"route": "ANY /open", "function": "hello", "access": "public"})
    preflight = next(p for p in matrix_of(config).preflights if p.route == "ANY /open")
    assert (preflight.answered_by, preflight.status) == ("ANY /open", None)


def test_a_preflight_that_reaches_a_route_demanding_a_token_is_refused_and_warned_about():
    """Without the OPTIONS route the component adds (a stack built another way), the ANY route
    catches the preflight and its authorizer answers 401."""
    config = with_routes(small_config(corsOrigins=[CORS]),
                         {"route": "ANY /admin/{proxy+}", "function": "hello", "groups": ["admin"]})
    resources = [r for r in resources_of_run(run_of(config).registered)
                 if not (r.type == T.ROUTE and r.get("routeKey") == "OPTIONS /admin/{proxy+}")]
    assert len(resources) == len(run_of(config).registered) - 1
    matrix = build_matrix(stack_model(resources))
    preflight = next(p for p in matrix.preflights if p.route == "ANY /admin/{proxy+}")
    assert (preflight.answered_by, preflight.status) == ("ANY /admin/{proxy+}", UNAUTHORIZED)
    assert kinds(matrix) == [("preflight-refused", "ANY /admin/{proxy+}")]
    assert "/admin/sample reach ANY /admin/{proxy+}" in matrix.warnings[0].message
    # The program's own stack has the OPTIONS route: nothing refused, nothing to warn about.
    assert kinds(matrix_of(config)) == []


# ---- warnings ---------------------------------------------------------------------------

def test_a_public_route_that_takes_a_protected_routes_requests_is_warned_about():
    config = with_routes(small_config(),
                         {"route": "GET /items/{id}", "function": "hello", "groups": ["admin"]},
                         {"route": "GET /items/status", "function": "hello", "access": "public"})
    matrix = matrix_of(config)
    assert kinds(matrix) == [("public-route-takes-protected-requests", "GET /items/status")]
    assert "GET /items/{id} (admits admin)" in matrix.warnings[0].message


def test_a_route_nobody_can_call_is_warned_about():
    config = with_routes(small_config(),
                         {"route": "GET /Audit", "function": "hello", "groups": ["auditor"]})
    config[f"{NS}:groups"].append({"name": "auditor"})
    matrix = matrix_of(config)
    assert kinds(matrix) == [("route-nobody-can-call", "GET /Audit")]
    assert "it admits auditor" in matrix.warnings[0].message


def test_a_user_who_can_call_nothing_is_warned_about():
    config = small_config()
    config[f"{NS}:users"].append({"username": "newbie"})
    matrix = matrix_of(config)
    assert kinds(matrix) == [("user-can-call-nothing", "newbie")]
    assert matrix.warnings[0].message == "newbie can call no route (groups: no group)"


def test_a_user_without_groups_who_can_call_a_signed_in_route_is_not_warned_about():
    config = with_routes(small_config(),
                         {"route": "GET /me", "function": "hello", "access": "signed-in"})
    config[f"{NS}:users"].append({"username": "newbie"})
    assert kinds(matrix_of(config)) == []


def test_a_group_no_route_admits_is_warned_about():
    config = small_config()
    config[f"{NS}:groups"].append({"name": "orphans"})
    config[f"{NS}:users"][1]["groups"].append("orphans")
    matrix = matrix_of(config)
    assert kinds(matrix) == [("group-without-route", "orphans")]


def test_a_shadowed_route_is_warned_about_and_probed_where_its_own_route_answers():
    methods = ("HEAD", "POST", "PUT", "PATCH", "DELETE")
    config = with_routes(
        small_config(),
        {"route": "GET /items/{id}", "function": "hello", "groups": ["admin"]},
        {"route": "GET /items/sample", "function": "hello", "groups": ["admin"]},
        {"route": "ANY /AdminUser", "function": "hello", "groups": ["admin"]},
        *({"route": f"{m} /AdminUser", "function": "hello", "groups": ["admin"]} for m in methods))
    matrix = matrix_of(config)
    routes = {r.key: r for r in matrix.routes}
    assert routes["GET /items/{id}"].path == "/items/sample-1"  # /items/sample is taken
    assert routes["GET /items/sample"].path == "/items/sample"
    assert kinds(matrix) == [("route-shadowed", "ANY /AdminUser")]


def test_no_users_is_one_warning_not_one_per_route():
    config = small_config()
    del config[f"{NS}:users"]
    matrix = matrix_of(config)
    assert kinds(matrix) == [("no-users", "users")]
    assert [c.name for c in matrix.callers] == [ANONYMOUS]


def _user(name: str, header_bytes: int) -> Caller:
    return Caller(name, ("admin",), ("admin-c",), header_bytes)


def test_a_token_near_the_request_size_limit_is_warned_about_exactly_from_the_threshold():
    route = Route("GET /a", "GET", "/a", ("admin",), ("admin-c",))
    users = [_user("below", HEADER_WARNING_BYTES - 1), _user("near", HEADER_WARNING_BYTES),
             _user("over", MAX_REQUEST_LINE_AND_HEADERS_BYTES)]
    cells = [Cell(u.name, route.key, 200, ("admin-c",)) for u in users]
    got = {f.subject: f.message for f in findings([route], users, cells, ["admin"])
           if f.kind == "token-near-header-limit"}
    assert set(got) == {"near", "over"}
    assert "near API Gateway's 10,240-byte limit" in got["near"]
    assert "over API Gateway's 10,240-byte limit" in got["over"]


def test_findings_of_routes_callers_and_cells_alone():
    """``findings`` judges only what it is given: a user the cells admit nowhere, a group no
    route admits, no users at all."""
    route = Route("GET /a", "GET", "/a", ("admin",), ("admin-c",))
    users = [_user("in", 1000), Caller("out", (), (), 1000)]
    cells = [Cell("in", "GET /a", 200, ("admin-c",)), Cell("out", "GET /a", 403, ())]
    assert [(f.kind, f.subject) for f in findings([route], users, cells, ["admin", "spare"])] == [
        ("user-can-call-nothing", "out"), ("group-without-route", "spare")]
    assert [(f.kind, f.subject) for f in findings([route], [], [], ["admin"])] == [
        ("no-users", "users")]


def test_a_token_over_the_limit_says_over():
    names = [f"g{i:03d}".ljust(128, "x") for i in range(40)]
    count = next(n for n in range(1, len(names))
                 if authorization_header_bytes("id", "many", names[:n])
                 >= MAX_REQUEST_LINE_AND_HEADERS_BYTES)
    names = names[:count]
    config = {"aws:region": "us-east-1", f"{NS}:groups": [{"name": n} for n in names],
              f"{NS}:users": [{"username": "many", "groups": names}],
              f"{NS}:routes": [{"route": "GET /r", "function": "hello", "groups": names[:10]}]}
    matrix = matrix_of(config)
    many = matrix.users[0]
    assert many.header_bytes >= MAX_REQUEST_LINE_AND_HEADERS_BYTES
    warning = next(w for w in matrix.warnings if w.kind == "token-near-header-limit")
    assert warning.subject == "many"
    assert "over API Gateway's 10,240-byte limit" in warning.message
    assert f"({count} groups in cognito:groups and scope)" in warning.message


# ---- the token size estimate ------------------------------------------------------------

@pytest.mark.parametrize("token_use", ["id", "access"])
@pytest.mark.parametrize("groups", [[], ["admin"], ["admin", "regular", "a" * 128]])
def test_the_size_estimate_is_the_length_of_a_real_rs256_token_with_those_claims(token_use, groups):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = estimated_claims(token_use, "someone", groups)
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k" * KID_CHARS, "typ": None})
    assert token_length(claims) == len(token)
    assert authorization_header_bytes(token_use, "someone", groups) == len("Bearer " + token)


def test_each_group_counts_in_cognito_groups_and_in_scope_with_the_client_id():
    base = estimated_claims("id", "u", ["admin"])
    more = estimated_claims("id", "u", ["admin", "regular"])
    grown = len(json.dumps(more, separators=(",", ":"))) - len(json.dumps(base, separators=(",", ":")))
    assert grown == len(',"regular"') + len(" regular-") + 26
    assert more["scope"] == "admin-" + "c" * 26 + " regular-" + "c" * 26


def test_access_tokens_carry_cognitos_own_scope_before_the_groups():
    claims = estimated_claims("access", "u", ["admin"])
    assert claims["scope"].split() == ["aws.cognito.signin.user.admin", "admin-" + "c" * 26]
    assert "aud" not in claims and claims["client_id"] == "c" * 26

