"""The expected access matrix and the reviewer's warnings: plain calls on parsed configs."""

from __future__ import annotations

import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from jwt_scoped.access.matrix import (
    ANONYMOUS,
    API_GATEWAY,
    CLIENT_ID_PLACEHOLDER,
    HEADER_WARNING_BYTES,
    build_matrix,
    expected_status,
)
from jwt_scoped.access.stackfile import load_settings
from jwt_scoped.access.token_size import (
    KID_CHARS,
    authorization_header_bytes,
    estimated_claims,
    token_length,
)
from jwt_scoped.modes import RouteAccess
from jwt_scoped.rules import MAX_REQUEST_LINE_AND_HEADERS_BYTES
from jwt_scoped.scope_format import scope_name
from fixtures.stacks import NS, ROOT, scaled_config

from access_configs import settings_of, small_config


def statuses(matrix) -> dict[tuple[str, str], int]:
    return {(c.caller, c.route): c.status for c in matrix.cells}


def test_the_blog_stack_file_gives_the_blog_results():
    matrix = build_matrix(load_settings(ROOT / "Pulumi.dev.yaml"))
    assert statuses(matrix) == {
        ("adminuser", "GET /AdminUser"): 200, ("adminuser", "GET /RegularUser"): 200,
        ("regularuser", "GET /AdminUser"): 403, ("regularuser", "GET /RegularUser"): 200,
        (ANONYMOUS, "GET /AdminUser"): 401, (ANONYMOUS, "GET /RegularUser"): 401,
    }
    assert [c.name for c in matrix.callers] == ["adminuser", "regularuser", ANONYMOUS]
    assert matrix.token_use == "id" and matrix.stage_name == "Test"
    assert matrix.warnings == ()


@pytest.mark.parametrize(("access", "token_groups", "route_groups", "status"), [
    ("groups", None, ["admin"], 401),                 # no valid token
    ("groups", [], ["admin"], 403),                   # signed in, no group at all
    ("groups", ["regular"], ["admin"], 403),          # signed in, another group
    ("groups", ["regular", "admin"], ["admin"], 200),
    ("groups", ["editor"], ["viewer", "editor"], 200),  # any one of the route's groups admits
    ("signed-in", None, [], 401),
    ("signed-in", [], [], 200),                       # any valid token, even one without scopes
    ("public", None, [], 200),                        # no authorizer: no token needed
    ("public", ["admin"], [], 200),
])
def test_expected_status_is_api_gateways_rule(access, token_groups, route_groups, status):
    assert expected_status(RouteAccess(access), route_groups, token_groups) == status


def test_scopes_show_the_client_id_as_a_placeholder_built_by_the_one_scope_format():
    matrix = build_matrix(settings_of(small_config()))
    admin = next(r for r in matrix.routes if r.key == "GET /AdminUser")
    assert admin.scopes == (scope_name("admin", CLIENT_ID_PLACEHOLDER),)
    assert admin.scopes == ("admin-<appClientId>",)
    adminuser = matrix.callers[0]
    assert adminuser.scopes == ("admin-<appClientId>", "regular-<appClientId>")


def test_each_cell_names_the_scopes_that_admit_the_caller_and_only_for_a_200():
    matrix = build_matrix(settings_of(small_config()))
    assert matrix.cell("adminuser", "GET /AdminUser").scopes == ("admin-<appClientId>",)
    assert matrix.cell("adminuser", "GET /RegularUser").scopes == ("regular-<appClientId>",)
    assert matrix.cell("regularuser", "GET /AdminUser").scopes == ()
    assert matrix.cell(ANONYMOUS, "GET /RegularUser").scopes == ()


def test_a_real_client_id_replaces_the_placeholder():
    matrix = build_matrix(settings_of(small_config()), client_id="71ghuul37mresr7h373b704tua")
    assert matrix.routes[0].scopes == ("admin-71ghuul37mresr7h373b704tua",)


def test_the_scaled_stack_routes_with_several_groups_params_and_any():
    matrix = build_matrix(settings_of(scaled_config()))
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
    assert len(matrix.cells) == len(matrix.callers) * len(matrix.routes) == 5 * 6


def test_public_routes_admit_everyone_and_signed_in_routes_every_user():
    got = statuses(build_matrix(settings_of(scaled_config())))
    assert {got[(c, "GET /health")] for c in ("alice", "nobody", ANONYMOUS)} == {200}
    assert [got[(c, "GET /me")] for c in ("alice", "nobody", ANONYMOUS)] == [200, 200, 401]


def test_with_cors_each_route_request_gets_a_preflight_row_saying_who_answers():
    matrix = build_matrix(settings_of(scaled_config()))
    assert matrix.cors_origin == "https://app.example.com"
    answers = {p.route: (p.path, p.method, p.answered_by, p.status) for p in matrix.preflights}
    assert answers["GET /AdminUser"] == ("/AdminUser", "GET", API_GATEWAY, 204)  # no OPTIONS route
    # ANY /admin/{proxy+} would catch it; the component's public OPTIONS route answers instead.
    assert answers["ANY /admin/{proxy+}"] == ("/admin/sample", "GET", "OPTIONS /admin/{proxy+}", 204)
    assert len(matrix.preflights) == len(matrix.routes)
    assert build_matrix(settings_of(small_config())).preflights == ()  # no CORS, no preflights


def test_a_public_any_route_answers_preflights_with_its_own_function():
    config = small_config(corsOrigins=["https://app.example.com"])
    config[f"{NS}:routes"].append({"route": "ANY /open", "function": "admin_user",
                                   "access": "public"})
    preflight = next(p for p in build_matrix(settings_of(config)).preflights
                     if p.route == "ANY /open")
    assert (preflight.answered_by, preflight.status) == ("ANY /open", None)


def test_a_public_route_that_takes_a_protected_routes_requests_is_warned_about():
    config = small_config()
    config[f"{NS}:routes"] += [
        {"route": "GET /items/{id}", "function": "admin_user", "groups": ["admin"]},
        {"route": "GET /items/status", "function": "admin_user", "access": "public"}]
    matrix = build_matrix(settings_of(config))
    assert kinds(matrix) == [("public-route-takes-protected-requests", "GET /items/status")]
    assert "GET /items/{id} (admits admin)" in matrix.warnings[0].message


def kinds(matrix) -> list[tuple[str, str]]:
    return [(w.kind, w.subject) for w in matrix.warnings]


def test_a_route_nobody_can_call_is_warned_about():
    config = small_config()
    config[f"{NS}:groups"].append({"name": "auditor"})
    config[f"{NS}:routes"].append({"route": "GET /Audit", "function": "admin_user",
                                   "groups": ["auditor"]})
    matrix = build_matrix(settings_of(config))
    assert kinds(matrix) == [("route-nobody-can-call", "GET /Audit")]
    assert "auditor" in matrix.warnings[0].message


def test_a_user_who_can_call_nothing_is_warned_about():
    config = small_config()
    config[f"{NS}:users"].append({"username": "newbie"})
    matrix = build_matrix(settings_of(config))
    assert kinds(matrix) == [("user-can-call-nothing", "newbie")]


def test_a_group_no_route_admits_is_warned_about():
    config = small_config()
    config[f"{NS}:groups"].append({"name": "orphans"})
    config[f"{NS}:users"][1]["groups"].append("orphans")
    matrix = build_matrix(settings_of(config))
    assert kinds(matrix) == [("group-without-route", "orphans")]


def test_a_shadowed_route_is_warned_about_and_probed_where_its_own_route_answers():
    config = small_config()
    config[f"{NS}:routes"] += [
        {"route": "GET /items/{id}", "function": "admin_user", "groups": ["admin"]},
        {"route": "GET /items/sample", "function": "admin_user", "groups": ["admin"]},
        {"route": "ANY /AdminUser", "function": "admin_user", "groups": ["admin"]},
    ]
    config[f"{NS}:routes"] += [{"route": f"{m} /AdminUser", "function": "admin_user",
                                "groups": ["admin"]} for m in ("HEAD", "POST", "PUT", "PATCH",
                                                               "DELETE")]
    matrix = build_matrix(settings_of(config))
    routes = {r.key: r for r in matrix.routes}
    assert routes["GET /items/{id}"].path == "/items/sample-1"  # /items/sample is taken
    assert routes["GET /items/sample"].path == "/items/sample"
    assert kinds(matrix) == [("route-shadowed", "ANY /AdminUser")]


def test_no_users_is_one_warning_not_one_per_route():
    config = small_config()
    del config[f"{NS}:users"]
    matrix = build_matrix(settings_of(config))
    assert kinds(matrix) == [("no-users", "users")]
    assert [c.name for c in matrix.callers] == [ANONYMOUS]


def config_with_groups(count: int, name_length: int = 40) -> dict:
    names = [f"g{i:03d}".ljust(name_length, "x") for i in range(count)]
    return {f"{NS}:groups": [{"name": n} for n in names],
            f"{NS}:users": [{"username": "many", "groups": names},
                            {"username": "few", "groups": names[:1]}],
            f"{NS}:routes": [{"route": f"GET /r{i}", "function": "admin_user", "groups": [n]}
                             for i, n in enumerate(names)]}


def test_a_token_near_the_request_size_limit_is_warned_about_exactly_from_the_threshold():
    count = 1
    while authorization_header_bytes("id", "many", [f"g{i:03d}".ljust(40, "x")
                                                    for i in range(count)]) < HEADER_WARNING_BYTES:
        count += 1
    near = build_matrix(settings_of(config_with_groups(count)))
    assert ("token-near-header-limit", "many") in kinds(near)
    assert ("token-near-header-limit", "few") not in kinds(near)
    assert "near API Gateway's 10,240-byte limit" in near.warnings[-1].message
    below = build_matrix(settings_of(config_with_groups(count - 1)))
    assert "token-near-header-limit" not in [k for k, _ in kinds(below)]


def test_a_token_over_the_limit_says_over():
    matrix = build_matrix(settings_of(config_with_groups(120, name_length=60)))
    many = next(c for c in matrix.callers if c.name == "many")
    assert many.header_bytes > MAX_REQUEST_LINE_AND_HEADERS_BYTES
    warning = next(w for w in matrix.warnings if w.kind == "token-near-header-limit")
    assert "over API Gateway's 10,240-byte limit" in warning.message


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
