"""Machine clients as callers in `jwt-scoped plan` and `verify`: their cells by API Gateway's
rule on the client credentials grant's access token, the warnings about them, their rows in
tables and JSON, the pull-request diff, their tokens from the token endpoint (secrets never
shown), and the drift check that compares like with like."""

from __future__ import annotations

import base64
import copy
import dataclasses
import http.server
import io
import json
import re
import threading
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import rsa

from jwt_scoped import aws_types as T
from jwt_scoped.access import render
from jwt_scoped.access import verify as verify_module
from jwt_scoped.access.code_flow import REDACTED, client_credentials
from jwt_scoped.access.diff import diff_plans
from jwt_scoped.access.matrix import (
    ANONYMOUS,
    CLIENT_ID_PLACEHOLDER,
    HEADER_WARNING_BYTES,
    MACHINE_PREFIX,
    Caller,
    Cell,
    Route,
    build_matrix,
    findings,
    machine_caller,
)
from jwt_scoped.access.model import resources_of_run, stack_model
from jwt_scoped.access.probe import Answer, RetryPolicy
from jwt_scoped.access.signin import SignInError
from jwt_scoped.access.state import USER_POOLS, live_model
from jwt_scoped.access.token_size import KID_CHARS, machine_claims, machine_header_bytes, token_length
from jwt_scoped.access.verify import (
    PREFLIGHT,
    TAMPERED,
    MachineSignIn,
    VerifyError,
    deployed,
    drift,
    introduction,
    probes,
    tamper,
    token_for,
)
from jwt_scoped.cli import main
from jwt_scoped.cognito_urls import TOKEN_PATH
from jwt_scoped.modes import CLIENT_CREDENTIALS, TokenUse

from access_configs import matrix_of, model_of, run_of, state_of
from fixtures.stacks import NS, ROOT, blog_config, stack_file_config
from sandbox_harness import AWS_VARIABLES, started, verify

NIGHTLY, PARTNER = machine_caller("nightly-job"), machine_caller("partner")
USERS = ("adminuser (web)", "adminuser (mobile)", "regularuser (web)", "regularuser (mobile)")
ROUTES = ("GET /AdminUser", "GET /Orders", "POST /Orders", "GET /RegularUser")


def machines_config() -> dict:
    """Pulumi.machines.yaml: groups admin and regular, app clients web and mobile, resource
    server orders (read, write), machine clients nightly-job [orders/read] and partner
    [orders/read, orders/write]; GET /AdminUser for admin, GET /Orders for orders/read, POST
    /Orders for admin or orders/write."""
    return copy.deepcopy(stack_file_config("machines"))


def with_machines(config: dict, *clients: dict, servers=({"identifier": "orders",
                                                         "scopes": ["read", "write"]},)) -> dict:
    config = copy.deepcopy(config)
    config[f"{NS}:resourceServers"] = list(servers)
    config[f"{NS}:machineClients"] = list(clients)
    return config


def statuses(matrix) -> dict[tuple[str, str], int]:
    return {(c.caller, c.route): c.status for c in matrix.cells}


def kinds(matrix) -> list[tuple[str, str]]:
    return [(w.kind, w.subject) for w in matrix.warnings]


# ---- the plan ---------------------------------------------------------------------------------

def test_the_machines_stack_file_gives_every_callers_cells():
    matrix = matrix_of(machines_config())
    assert [c.name for c in matrix.callers] == [*USERS, NIGHTLY, PARTNER, ANONYMOUS]
    assert [c.name for c in matrix.machines] == [NIGHTLY, PARTNER]
    assert [c.name for c in matrix.users] == list(USERS)
    admin = {"GET /AdminUser": 200, "GET /Orders": 403, "POST /Orders": 200,
             "GET /RegularUser": 200}
    regular = {"GET /AdminUser": 403, "GET /Orders": 403, "POST /Orders": 403,
               "GET /RegularUser": 200}
    expected = {
        **{(u, r): admin[r] for u in USERS[:2] for r in ROUTES},
        **{(u, r): regular[r] for u in USERS[2:] for r in ROUTES},
        (NIGHTLY, "GET /AdminUser"): 403, (NIGHTLY, "GET /Orders"): 200,
        (NIGHTLY, "POST /Orders"): 403,  # orders/read only: not orders/write
        (PARTNER, "GET /AdminUser"): 403, (PARTNER, "GET /Orders"): 200,
        (PARTNER, "POST /Orders"): 200,
        # A group route: no machine scope of it, so no machine (a group scope never stands in).
        (NIGHTLY, "GET /RegularUser"): 403, (PARTNER, "GET /RegularUser"): 403,
        **{(ANONYMOUS, r): 401 for r in ROUTES}}
    assert statuses(matrix) == expected
    assert matrix.cell(PARTNER, "POST /Orders").scopes == ("orders/write",)
    assert matrix.cell(PARTNER, "GET /Orders").scopes == ("orders/read",)
    assert matrix.cell(NIGHTLY, "POST /Orders").scopes == ()


def test_a_machine_caller_holds_every_scope_its_client_may_request_and_no_group():
    config = machines_config()
    matrix = matrix_of(config)
    registered = {c.inputs["name"]: c for c in run_of(config).of_type(T.USER_POOL_CLIENT)}
    for caller in matrix.machines:
        client = registered[caller.client]
        assert CLIENT_CREDENTIALS in client.inputs["allowedOauthFlows"]
        assert caller.scopes == tuple(client.inputs["allowedOauthScopes"])
        assert caller.groups == () and caller.user_urn is None
        assert caller.client_urn == client.urn and caller.machine
        assert caller.header_bytes == machine_header_bytes(caller.scopes)
    assert [c.scopes for c in matrix.machines] == [("orders/read",), ("orders/read", "orders/write")]


def test_machine_caller_names_start_with_a_word_and_a_space_no_username_has():
    assert NIGHTLY == MACHINE_PREFIX + "nightly-job" == "machine nightly-job"
    assert " " in MACHINE_PREFIX  # Cognito usernames have no whitespace


def test_route_scopes_separate_the_machine_scopes_as_written():
    matrix = matrix_of(machines_config())
    post = matrix.route("POST /Orders")
    assert post.groups == ("admin",)
    assert post.scopes == ("admin-<clientId:web>", "admin-<clientId:mobile>", "orders/write")
    assert post.machine_scopes == ("orders/write",)
    assert post.admits == "admin, or machines with orders/write"
    orders = matrix.route("GET /Orders")
    assert (orders.groups, orders.machine_scopes) == ((), ("orders/read",))
    assert orders.admits == "machines with orders/read"
    assert matrix.route("GET /AdminUser").machine_scopes == ()


def test_with_one_app_client_for_people_group_scopes_keep_the_one_placeholder():
    """Machine clients are in no group scope: they do not make the plan name clients."""
    config = with_machines(blog_config(), {"name": "nightly-job", "scopes": ["orders/read"]})
    matrix = matrix_of(config)
    assert matrix.route("GET /AdminUser").scopes == (f"admin-{CLIENT_ID_PLACEHOLDER}",)
    assert matrix.users[0].scopes == (f"admin-{CLIENT_ID_PLACEHOLDER}",
                                      f"regular-{CLIENT_ID_PLACEHOLDER}")


def test_a_group_scope_never_stands_for_a_machine_scope_nor_the_other_way_round():
    """A group named like the resource server: its members hold ``orders-<clientId>``, never
    ``orders/read``; a machine with ``orders/read`` is no member of ``orders``."""
    config = with_machines(blog_config(), {"name": "job", "scopes": ["orders/read"]})
    config[f"{NS}:groups"].append({"name": "orders"})
    config[f"{NS}:users"][1]["groups"].append("orders")
    config[f"{NS}:routes"] += [
        {"route": "GET /ByGroup", "function": "hello", "groups": ["orders"]},
        {"route": "GET /ByScope", "function": "hello", "machineScopes": ["orders/read"]}]
    got = statuses(matrix_of(config))
    job = machine_caller("job")
    assert (got[("regularuser", "GET /ByGroup")], got[("regularuser", "GET /ByScope")]) == (200, 403)
    assert (got[(job, "GET /ByGroup")], got[(job, "GET /ByScope")]) == (403, 200)


def test_a_scope_that_ends_with_an_app_client_id_is_shown_as_written():
    """Only group scopes the trigger grants get the placeholder; a machine scope is compared and
    shown as the string it is, whatever it ends with."""
    config = with_machines(blog_config(), {"name": "job", "scopes": ["orders/read"]})
    resources = resources_of_run(run_of(config).registered)
    app = next(r for r in resources if r.type == T.USER_POOL_CLIENT and not r.get("generateSecret"))
    odd = f"orders/read-{app.id}"
    edited = []
    for r in resources:
        if r.type == T.ROUTE and r.get("routeKey") == "GET /AdminUser":
            r = dataclasses.replace(r, inputs={**r.inputs, "authorizationScopes": [
                *r.inputs["authorizationScopes"], odd]}, outputs={})
        edited.append(r)
    route = build_matrix(stack_model(edited)).route("GET /AdminUser")
    assert route.scopes == (f"admin-{CLIENT_ID_PLACEHOLDER}", odd)
    assert route.machine_scopes == (odd,)


def test_a_machine_calls_signed_in_and_public_routes_as_any_valid_token_does():
    config = with_machines(blog_config(), {"name": "job", "scopes": ["orders/read"]})
    config[f"{NS}:routes"] += [{"route": "GET /me", "function": "hello", "access": "signed-in"},
                               {"route": "GET /health", "function": "hello", "access": "public"}]
    got = statuses(matrix_of(config))
    job = machine_caller("job")
    assert [got[(job, r)] for r in ("GET /me", "GET /health", "GET /AdminUser")] == [200, 200, 403]


def test_a_machine_client_that_is_no_audience_of_the_authorizer_gets_401():
    config = with_machines(blog_config(), {"name": "job", "scopes": ["orders/read"]})
    config[f"{NS}:routes"] += [
        {"route": "GET /me", "function": "hello", "access": "signed-in"},
        {"route": "GET /Orders", "function": "hello", "machineScopes": ["orders/read"]},
        {"route": "GET /health", "function": "hello", "access": "public"}]
    resources = resources_of_run(run_of(config).registered)
    job = next(r for r in resources if r.type == T.USER_POOL_CLIENT and r.get("name") == "job")
    edited = []
    for r in resources:
        if r.type == T.AUTHORIZER:
            jwt_config = r.get("jwtConfiguration")
            r = dataclasses.replace(r, outputs={}, inputs={**r.inputs, "jwtConfiguration": {
                **jwt_config, "audiences": [a for a in jwt_config["audiences"] if a != job.id]}})
        edited.append(r)
    got = statuses(build_matrix(stack_model(edited)))
    caller = machine_caller("job")
    assert [got[(caller, r)] for r in ("GET /me", "GET /Orders", "GET /health")] == [401, 401, 200]
    assert got[(caller, "GET /Orders")] != statuses(matrix_of(config))[(caller, "GET /Orders")]


def test_a_machine_always_presents_its_access_token_whatever_token_users_send():
    """With ``tokenUse: id`` users send their ID token; machines still have only an access
    token, and their cells do not change."""
    access = machines_config()
    id_config = {**access, f"{NS}:tokenUse": "id"}
    id_matrix = matrix_of(id_config)
    assert id_matrix.token_use == TokenUse.ID
    machine_cells = {k: v for k, v in statuses(id_matrix).items() if k[0].startswith(MACHINE_PREFIX)}
    assert machine_cells == {k: v for k, v in statuses(matrix_of(access)).items()
                             if k[0].startswith(MACHINE_PREFIX)}


# ---- warnings ---------------------------------------------------------------------------------

def test_the_machines_stack_has_no_warning():
    assert kinds(matrix_of(machines_config())) == []


def test_a_route_demanding_a_machine_scope_no_machine_client_may_request_is_warned_about():
    config = with_machines(blog_config(), {"name": "job", "scopes": ["orders/read"]})
    config[f"{NS}:routes"] += [
        {"route": "POST /Orders", "function": "hello", "groups": ["admin"],
         "machineScopes": ["orders/write"]},
        {"route": "GET /Orders", "function": "hello", "machineScopes": ["orders/read"]}]
    matrix = matrix_of(config)
    assert kinds(matrix) == [("machine-scope-no-client-requests", "POST /Orders")]
    assert matrix.warnings[0].message == (
        "POST /Orders demands orders/write, which no machine client may request: no token will "
        "hold it")


def test_a_machine_only_route_nobody_can_call_says_why():
    config = with_machines(blog_config(), {"name": "job", "scopes": ["orders/read"]})
    config[f"{NS}:routes"] += [
        {"route": "GET /Orders", "function": "hello", "machineScopes": ["orders/read"]},
        {"route": "DELETE /Orders", "function": "hello", "machineScopes": ["orders/write"]}]
    matrix = matrix_of(config)
    assert kinds(matrix) == [("route-nobody-can-call", "DELETE /Orders"),
                             ("machine-scope-no-client-requests", "DELETE /Orders")]
    assert matrix.warnings[0].message == (
        "no configured caller can call DELETE /Orders: it admits machines with orders/write; no "
        "machine client may request that scope")


def test_a_machine_client_that_can_call_no_route_is_warned_about():
    config = with_machines(blog_config(), {"name": "idle", "scopes": ["orders/write"]})
    matrix = matrix_of(config)
    assert kinds(matrix) == [("machine-can-call-nothing", machine_caller("idle"))]
    assert matrix.warnings[0].message == "machine idle can call no route (scopes: orders/write)"


def test_a_machine_route_no_user_can_call_is_not_warned_about_while_a_machine_can():
    config = with_machines(blog_config(), {"name": "job", "scopes": ["orders/read"]})
    config[f"{NS}:routes"].append({"route": "GET /Orders", "function": "hello",
                                   "machineScopes": ["orders/read"]})
    assert kinds(matrix_of(config)) == []


def test_machines_without_users_are_callers_so_no_users_is_not_said():
    config = with_machines(blog_config(), {"name": "job", "scopes": ["orders/read"]})
    del config[f"{NS}:users"]
    config[f"{NS}:routes"].append({"route": "GET /Orders", "function": "hello",
                                   "machineScopes": ["orders/read"]})
    assert [k for k, _ in kinds(matrix_of(config))] == ["route-nobody-can-call"] * 2


def test_a_machine_token_near_the_request_size_limit_is_warned_about_by_its_scopes():
    scopes = tuple(f"orders/{'x' * 200}{i}" for i in range(40))
    route = Route("GET /Orders", "GET", "/Orders", (), scopes[:1], machine_scopes=scopes[:1])
    big = Caller(machine_caller("big"), (), scopes, machine_header_bytes(scopes), machine=True,
                 client="big")
    assert big.header_bytes >= HEADER_WARNING_BYTES
    (warning,) = [f for f in findings([route], [big], [Cell(big.name, route.key, 200, scopes[:1])],
                                      []) if f.kind == "token-near-header-limit"]
    assert warning.subject == big.name
    assert f"({len(scopes)} scopes): " in warning.message


# ---- the token size estimate ------------------------------------------------------------------

@pytest.mark.parametrize("scopes", [["orders/read"], ["orders/read", "orders/write", "a" * 100]])
def test_a_client_credentials_token_estimate_is_a_real_rs256_tokens_length(scopes):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = machine_claims(scopes)
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k" * KID_CHARS, "typ": None})
    assert token_length(claims) == len(token)
    assert machine_header_bytes(scopes) == len("Bearer " + token)
    assert claims["scope"] == " ".join(scopes) and claims["token_use"] == "access"
    assert not {"username", "cognito:groups", "email", "aud"} & set(claims)


def test_each_machine_scope_counts_once():
    one, two = machine_claims(["orders/read"]), machine_claims(["orders/read", "orders/write"])
    grown = len(json.dumps(two, separators=(",", ":"))) - len(json.dumps(one, separators=(",", ":")))
    assert grown == len(" orders/write")


# ---- tables and JSON --------------------------------------------------------------------------

def test_the_table_shows_machine_columns_and_their_scopes_and_header_size():
    matrix = matrix_of(machines_config())
    lines = render.render_plan(matrix, "Pulumi.machines.yaml", "table").splitlines()
    header = next(line for line in lines if line.startswith("route "))
    assert f"  {NIGHTLY}  {PARTNER}  {ANONYMOUS}  " in header
    assert render.MACHINE_LINE in lines
    partner = next(line for line in lines if line.startswith(f"{PARTNER} "))
    assert partner.split()[2:] == ["-", "orders/read", "orders/write",
                                   f"~{matrix.machines[1].header_bytes:,}", "bytes"]
    assert render.MACHINE_LINE not in render.render_plan(matrix_of(blog_config()), "x", "table")


def test_with_several_app_clients_the_table_says_scopes_name_each_client():
    text = render.render_plan(matrix_of(machines_config()), "x", "table").splitlines()
    assert text[1] == ("Scopes are <group>-<clientId:NAME> (one per app client users sign in "
                       "through; the ids exist after deploy).")
    assert render.render_plan(matrix_of(blog_config()), "x", "table").splitlines()[1] == (
        "Scopes are <group>-<appClientId>; the app client id exists after deploy.")


def test_the_docs_show_the_plan_of_the_machines_stack(capsys):
    assert main(["plan", "--stack", "machines", "-C", str(ROOT)]) == 0
    shown = re.search(r"```console\n\$ jwt-scoped plan --stack machines\n(.*?)```",
                      (ROOT / "docs" / "access.md").read_text(encoding="utf-8"), re.S)
    assert shown and capsys.readouterr().out == shown.group(1)


def test_the_markdown_plan_lists_the_machines_as_callers():
    matrix = matrix_of(machines_config())
    text = render.render_plan(matrix, "Pulumi.machines.yaml", "markdown")
    assert "| caller | groups | scopes in token | Authorization header (est.) |" in text
    assert (f"| {PARTNER} | - | `orders/read` `orders/write` | "
            f"~{matrix.machines[1].header_bytes:,} bytes |") in text


@pytest.mark.parametrize("fmt", render.FORMATS)
def test_no_plan_shows_a_machine_clients_secret(fmt):
    config = machines_config()
    secrets = [c.outputs["clientSecret"] for c in run_of(config).of_type(T.USER_POOL_CLIENT)
               if c.inputs.get("generateSecret")]
    assert len(secrets) == 2 and all(secrets)
    matrix = matrix_of(config)
    text = render.render_plan(matrix, "x", fmt)
    text += render.render_diff(diff_plans(matrix_of(blog_config()), matrix), "a", "b", fmt)
    assert not any(secret in text for secret in secrets)


def test_the_json_plan_names_machine_callers_and_route_machine_scopes():
    matrix = matrix_of(machines_config())
    document = json.loads(render.render_plan(matrix, "Pulumi.machines.yaml", "json"))
    assert document["version"] == render.JSON_VERSION == 2
    callers = {c["caller"]: c for c in document["callers"]}
    assert callers[NIGHTLY] == {"caller": NIGHTLY, "anonymous": False, "machine": True,
                                "client": "nightly-job", "groups": [], "scopes": ["orders/read"],
                                "authorization_header_bytes": machine_header_bytes(["orders/read"])}
    assert (callers["adminuser (web)"]["machine"], callers["adminuser (web)"]["client"]) == (
        False, "web")
    routes = {r["route"]: r for r in document["routes"]}
    assert routes["POST /Orders"]["machine_scopes"] == ["orders/write"]
    assert {"caller": PARTNER, "route": "POST /Orders", "status": 200,
            "scopes": ["orders/write"]} in document["cells"]


def test_the_json_plan_reads_back_with_its_machine_callers():
    original = matrix_of(machines_config())
    back = render.matrix_from_json(render.plan_json(original, "x"))
    assert back == dataclasses.replace(
        original, routes=tuple(dataclasses.replace(r, urn=None) for r in original.routes),
        callers=tuple(dataclasses.replace(c, user_urn=None, client_urn=None)
                      for c in original.callers))
    assert [c.name for c in back.machines] == [NIGHTLY, PARTNER]


def test_a_plan_written_before_machine_callers_still_reads():
    """Version 2 documents from before the machine fields: every caller a user, no route with
    machine scopes."""
    document = render.plan_json(matrix_of(blog_config()), "base")
    for caller in document["callers"]:
        del caller["machine"], caller["client"]
    for route in document["routes"]:
        del route["machine_scopes"]
    back = render.matrix_from_json(document)
    assert back.machines == () and [c.name for c in back.users] == ["adminuser", "regularuser"]
    assert all(r.machine_scopes == () for r in back.routes)
    assert diff_plans(back, matrix_of(blog_config())).is_empty


@pytest.mark.parametrize(("where", "value"), [("callers", "yes"), ("routes", "orders/read")])
def test_a_machine_field_of_the_wrong_type_is_refused(where, value):
    document = render.plan_json(matrix_of(machines_config()), "x")
    document[where][0]["machine" if where == "callers" else "machine_scopes"] = value
    with pytest.raises(render.PlanJsonError, match="missing or bad field"):
        render.matrix_from_json(document)


# ---- the pull-request diff --------------------------------------------------------------------

def edited(edit) -> dict:
    config = machines_config()
    edit(config)
    return config


def client_of(config: dict, name: str) -> dict:
    return next(c for c in config[f"{NS}:machineClients"] if c["name"] == name)


def test_a_machine_gaining_a_route_is_a_changed_cell_like_a_users():
    after = edited(lambda c: client_of(c, "nightly-job").update(scopes=["orders/read",
                                                                        "orders/write"]))
    diff = diff_plans(matrix_of(machines_config()), matrix_of(after))
    assert [(c.caller, c.route, c.before, c.after) for c in diff.changed] == [
        (NIGHTLY, "POST /Orders", 403, 200)]
    assert [(u.before.scopes, u.after.scopes) for u in diff.users_changed] == [
        (("orders/read",), ("orders/read", "orders/write"))]
    table = render.render_diff(diff, "base", "head", "table").splitlines()
    assert f"  {NIGHTLY}  POST /Orders  403 -> 200" in table
    start = table.index("Machine clients whose scopes change:")
    assert table[start + 1] == f"  {NIGHTLY}  orders/read -> orders/read, orders/write"
    markdown = render.render_diff(diff, "base", "head", "markdown")
    assert f"| {NIGHTLY} | `POST /Orders` | 403 | **200** |" in markdown
    document = render.diff_json(diff, "base", "head")
    assert document["changed"] == [{"caller": NIGHTLY, "route": "POST /Orders", "before": 403,
                                    "after": 200}]
    assert document["users_changed"] == [{"caller": NIGHTLY, "before": {
        "groups": [], "scopes": ["orders/read"]}, "after": {
        "groups": [], "scopes": ["orders/read", "orders/write"]}}]


def test_a_route_no_longer_admitting_a_machine_scope_is_a_loss_and_a_route_change():
    def edit(c):
        c[f"{NS}:routes"][1]["machineScopes"] = ["orders/write"]
    diff = diff_plans(matrix_of(machines_config()), matrix_of(edited(edit)))
    assert [(c.caller, c.route, c.before, c.after) for c in diff.changed] == [
        (NIGHTLY, "GET /Orders", 200, 403)]
    assert [(c.before.machine_scopes, c.after.machine_scopes) for c in diff.routes_changed] == [
        (("orders/read",), ("orders/write",))]
    table = render.render_diff(diff, "base", "head", "table").splitlines()
    start = table.index("Routes whose access changes:")
    assert table[start + 1] == "  GET /Orders  machines with orders/read -> machines with orders/write"
    document = render.diff_json(diff, "base", "head")
    assert document["routes_changed"][0]["after"]["machine_scopes"] == ["orders/write"]


def test_a_machine_client_added_or_removed_is_listed_with_its_routes():
    base = matrix_of(machines_config())
    after = edited(lambda c: c[f"{NS}:machineClients"].append(
        {"name": "auditor", "scopes": ["orders/read"]}))
    diff = diff_plans(base, matrix_of(after))
    auditor = machine_caller("auditor")
    assert [u.name for u in diff.users_added] == [auditor] and diff.changed == ()
    table = render.render_diff(diff, "base", "head", "table").splitlines()
    start = table.index("Machine clients added:")
    assert table[start + 1].split() == ["machine", "auditor", "scopes:", "orders/read", "200",
                                        "on:", "GET", "/Orders"]
    assert "Users added:" not in table
    document = render.diff_json(diff, "base", "head")
    assert document["users_added"][0]["machine"] is True
    assert document["users_added"][0]["routes"] == ["GET /Orders"]
    removed = diff_plans(matrix_of(after), base)
    assert "Machine clients removed:" in render.render_diff(removed, "a", "b", "table")


def test_against_the_base_plan_read_back_from_json_a_machine_gain_shows():
    base = render.matrix_from_json(render.plan_json(matrix_of(machines_config()), "base"))
    assert diff_plans(base, matrix_of(machines_config())).is_empty
    after = edited(lambda c: client_of(c, "nightly-job").update(scopes=["orders/write"]))
    changes = {(c.caller, c.route, c.before, c.after)
               for c in diff_plans(base, matrix_of(after)).changed}
    assert changes == {(NIGHTLY, "GET /Orders", 200, 403), (NIGHTLY, "POST /Orders", 403, 200)}


# ---- verify: finding the machine clients, their tokens ----------------------------------------

SECRETS = {"nightly-job": "s3cret-of-the-nightly-job-0123456789abcdef",
           "partner": "s3cret-of-the-partner-0123456789abcdef"}


def with_secrets(state: dict, secrets: dict[str, str | None]) -> dict:
    """The state with each named machine client's ``clientSecret`` as a deployed stack has it
    (``None``: none at all)."""
    state = copy.deepcopy(state)
    for entry in state["deployment"]["resources"]:
        if entry["type"] == T.USER_POOL_CLIENT and entry["inputs"].get("name") in secrets:
            entry["outputs"].pop("clientSecret", None)
            if secrets[entry["inputs"]["name"]] is not None:
                entry["outputs"]["clientSecret"] = secrets[entry["inputs"]["name"]]
    return state


def local_domains(config: dict, base: str) -> dict:
    """A sandbox block whose pool domain is served at ``base``."""
    model = model_of(config)
    return {USER_POOLS: {pool.id: {"domains": {pool.domain: base}} for pool in model.pools}}


def test_each_machine_client_is_found_with_its_secret_and_token_endpoint():
    config = machines_config()
    state = with_secrets(state_of(config), SECRETS)
    target = deployed(matrix_of(config), live_model(state))
    model = model_of(config)
    (pool,) = model.pools
    ids = {c.name: c.id for c in pool.machine_clients}
    url = verify_module.hosted_ui_base(live_model(state), pool) + TOKEN_PATH
    assert url.startswith(f"https://{pool.domain}.auth.us-east-1.amazoncognito.com/")
    assert target.machines == {
        NIGHTLY: MachineSignIn("nightly-job", ids["nightly-job"], SECRETS["nightly-job"], url),
        PARTNER: MachineSignIn("partner", ids["partner"], SECRETS["partner"], url)}
    assert target.drift == ()
    assert SECRETS["partner"] not in repr(target)


def test_a_sandboxs_state_gives_its_local_token_endpoint():
    config = machines_config()
    state = with_secrets(state_of(config, local_domains(config, "http://127.0.0.1:5999")), SECRETS)
    target = deployed(matrix_of(config), live_model(state))
    assert {m.token_url for m in target.machines.values()} == {
        "http://127.0.0.1:5999" + TOKEN_PATH}


def test_a_machine_client_missing_or_without_its_secret_is_named():
    config = machines_config()
    state = with_secrets(state_of(config), {"nightly-job": None})
    state["deployment"]["resources"] = [
        e for e in state["deployment"]["resources"]
        if not (e["type"] == T.USER_POOL_CLIENT and e["inputs"].get("name") == "partner")]
    with pytest.raises(VerifyError) as raised:
        deployed(matrix_of(config), live_model(state))
    message = str(raised.value)
    assert "the state holds no secret for machine client nightly-job" in message
    assert "machine client partner is not deployed" in message


def test_machines_are_probed_after_the_users_with_their_planned_statuses():
    matrix = matrix_of(machines_config())
    got = [(p.caller, p.expected) for p in probes(matrix, tampered=True)
           if p.route == "POST /Orders" and p.caller != PREFLIGHT]
    assert got == [(ANONYMOUS, 401), *((u, 200 if "admin" in u else 403) for u in USERS),
                   (NIGHTLY, 403), (PARTNER, 200), (TAMPERED, 401)]


def test_a_machine_presents_its_access_token_and_without_users_it_is_the_one_tampered():
    users = {"adminuser": {TokenUse.ID: "u.id.s", TokenUse.ACCESS: "u.acc.s"}}
    machines = {NIGHTLY: "m.acc.s"}
    assert token_for(NIGHTLY, users, TokenUse.ID, machines) == "m.acc.s"
    assert token_for("adminuser", users, TokenUse.ID, machines) == "u.id.s"
    assert token_for(TAMPERED, users, TokenUse.ID, machines) == tamper("u.id.s")
    assert token_for(TAMPERED, {}, TokenUse.ID, machines) == tamper("m.acc.s")


def test_the_introduction_counts_the_machines():
    config = machines_config()
    matrix = matrix_of(config)
    target = deployed(matrix, live_model(with_secrets(state_of(config), SECRETS)))
    lines = introduction(matrix, target, list(USERS), "password", [NIGHTLY, PARTNER])
    assert lines[0].endswith("4 routes, 4 users signed in with their passwords (InitiateAuth), "
                             "2 machine clients with the client credentials grant")
    alone = introduction(matrix, target, [], "password", [NIGHTLY])
    assert alone[1] == f"{TAMPERED} is {NIGHTLY}'s access token with one signature character changed"


class TokenEndpoint(http.server.BaseHTTPRequestHandler):
    """Cognito's token endpoint for the client credentials grant, as far as verify needs it:
    HTTP Basic with a known client's secret, ``grant_type=client_credentials``; the client's
    token, or an RFC 6749 error whose description repeats the secret it was sent (a careless
    server: verify must not repeat it)."""

    clients: dict[str, str] = {}
    tokens: dict[str, str] = {}
    seen: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        scheme, _, encoded = (self.headers.get("Authorization") or "").partition(" ")
        client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        self.seen.append({"form": form, "scheme": scheme, "client_id": client_id})
        if form.get("grant_type") != [CLIENT_CREDENTIALS]:
            return self.answer(400, {"error": "unsupported_grant_type"})
        if self.clients.get(client_id) != secret:
            return self.answer(400, {"error": "invalid_client",
                                     "error_description": f"bad secret {secret}"})
        return self.answer(200, {"access_token": self.tokens[client_id], "token_type": "Bearer",
                                 "expires_in": 3600})

    def answer(self, status: int, body: dict):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def token_endpoint():
    """A local token endpoint knowing the machines stack's clients (by their planned ids)."""
    (pool,) = model_of(machines_config()).pools
    ids = {c.name: c.id for c in pool.machine_clients}
    TokenEndpoint.clients = {ids[name]: secret for name, secret in SECRETS.items()}
    TokenEndpoint.tokens = {ids[name]: f"eyJtoken.of-{name}.signature" for name in SECRETS}
    TokenEndpoint.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TokenEndpoint)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", ids
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_the_token_comes_from_the_client_credentials_grant_with_basic_auth_and_no_scope(
        token_endpoint):
    base, ids = token_endpoint
    token = client_credentials(base + TOKEN_PATH, ids["partner"], SECRETS["partner"], PARTNER)
    assert token == "eyJtoken.of-partner.signature"
    (request,) = TokenEndpoint.seen
    assert request["scheme"] == "Basic" and request["client_id"] == ids["partner"]
    assert request["form"] == {"grant_type": [CLIENT_CREDENTIALS]}  # no scope: all of them


def test_a_refused_client_is_one_line_without_its_secret(token_endpoint):
    base, ids = token_endpoint
    wrong = "not-the-secret-but-still-a-secret-42"
    with pytest.raises(SignInError) as raised:
        client_credentials(base + TOKEN_PATH, ids["partner"], wrong, PARTNER)
    message = str(raised.value)
    assert message == (f"the token endpoint {base}{TOKEN_PATH} refused the client credentials "
                       f"of {PARTNER}: invalid_client (bad secret {REDACTED})")
    assert wrong not in message


def test_an_unreachable_token_endpoint_is_one_line(token_endpoint):
    with pytest.raises(SignInError, match=f"^cannot reach the token endpoint .* for {NIGHTLY}: "):
        client_credentials("http://127.0.0.1:9" + TOKEN_PATH, "id", SECRETS["nightly-job"],
                           NIGHTLY, timeout=2)


@pytest.fixture
def api(monkeypatch):
    """An API answering as API Gateway would for the machines stack, judging each machine's
    token by the scopes its client may request."""
    matrix = matrix_of(machines_config())
    scopes = {f"eyJtoken.of-{c.client}.signature": set(c.scopes) for c in matrix.machines}
    demands = {(r.method, r.path): set(r.machine_scopes) for r in matrix.routes}

    def gateway(url, method, token, policy, headers=None):
        path = "/" + urlsplit(url).path.split("/", 2)[2]
        if method == "OPTIONS":  # API Gateway's own CORS answer
            return Answer(204, None, "", allow_origin=(headers or {}).get("Origin"))
        if token not in scopes:  # none, or tampered
            return Answer(401, 'Bearer error_description="the token signature is invalid"', "")
        return Answer(200 if scopes[token] & demands[(method, path)] else 403, None, "")

    monkeypatch.setattr(verify_module, "call", gateway)
    return gateway


def machines_only() -> dict:
    """The machines stack without users: verify needs only the token endpoint and the API."""
    config = machines_config()
    del config[f"{NS}:users"]
    return config


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_run_proves_each_machine_cell_and_shows_no_secret_or_token(token_endpoint, api, fmt):
    base, _ = token_endpoint
    config = machines_only()
    state = with_secrets(state_of(config, local_domains(config, base)), SECRETS)
    out = io.StringIO()
    code = verify_module.run(matrix_of(config), live_model(state), RetryPolicy(attempts=1), out,
                             fmt=fmt)
    text = out.getvalue()
    assert code == 0, text
    assert len(TokenEndpoint.seen) == 2
    for secret in SECRETS.values():
        assert secret not in text
    assert "eyJtoken" not in text
    if fmt == "json":
        outcomes = {(o["route"], o["caller"]): (o["expected"], o["actual"])
                    for o in json.loads(text)["outcomes"]}
        assert outcomes[("POST /Orders", PARTNER)] == (200, 200)
        assert outcomes[("POST /Orders", NIGHTLY)] == (403, 403)
        assert outcomes[("GET /Orders", NIGHTLY)] == (200, 200)
        assert outcomes[("GET /Orders", TAMPERED)] == (401, 401)
    else:
        # Each route: no token, the two machines, the tampered token; and its preflight.
        assert text.splitlines()[-1] == f"All {len(ROUTES) * 4 + len(ROUTES)} cells match."


def test_a_refused_machine_stops_verify_with_one_line_and_no_secret(token_endpoint, api, capsys,
                                                                    tmp_path):
    base, _ = token_endpoint
    config = machines_only()
    secrets = {**SECRETS, "partner": "a-secret-the-endpoint-does-not-know-777"}
    state = with_secrets(state_of(config, local_domains(config, base)), secrets)
    (tmp_path / "state.json").write_text(json.dumps(state))
    (tmp_path / "Pulumi.m.yaml").write_text(yaml.safe_dump({"config": config}))
    code = main(["verify", "--config", str(tmp_path / "Pulumi.m.yaml"), "--state",
                 str(tmp_path / "state.json"), "-C", str(ROOT), "--backoff", "0"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.startswith("error: the token endpoint ") and captured.err.count("\n") == 1
    assert f"refused the client credentials of {PARTNER}: invalid_client" in captured.err
    for secret in secrets.values():
        assert secret not in captured.err


# ---- drift: like with like ----------------------------------------------------------------------

@pytest.mark.parametrize("config", [blog_config, machines_config], ids=["blog", "machines"])
def test_a_matrix_with_the_ids_themselves_finds_no_drift_in_its_own_stack(config):
    """The sandbox checks its own matrix (real local ids, no placeholders) against its state:
    the same routes must not read as deployed otherwise."""
    live = live_model(with_secrets(state_of(config()), SECRETS))
    own = build_matrix(live, placeholders=False)
    assert not own.placeholders
    assert deployed(own, live).drift == ()
    assert deployed(matrix_of(config()), live).drift == ()


def route_scopes(state: dict, key: str, edit) -> dict:
    state = copy.deepcopy(state)
    for entry in state["deployment"]["resources"]:
        if entry["type"] == T.ROUTE and entry["inputs"]["routeKey"] == key:
            for part in ("inputs", "outputs"):
                entry[part]["authorizationScopes"] = edit(entry[part]["authorizationScopes"])
    return state


def test_a_route_deployed_for_one_app_client_only_says_which_scopes_differ():
    config = machines_config()
    state = route_scopes(with_secrets(state_of(config), SECRETS), "GET /AdminUser",
                         lambda scopes: scopes[:1])
    assert deployed(matrix_of(config), live_model(state)).drift == (
        "GET /AdminUser is deployed admitting admin (groups) with scopes admin-<clientId:web>; "
        "the plan admits admin (groups) with scopes admin-<clientId:web> admin-<clientId:mobile>",)


def test_a_route_deployed_with_another_machine_scope_says_so():
    config = machines_config()
    state = route_scopes(with_secrets(state_of(config), SECRETS), "POST /Orders",
                         lambda scopes: [*scopes[:-1], "orders/read"])
    assert drift(matrix_of(config), build_matrix(live_model(state))) == (
        "POST /Orders is deployed admitting admin, or machines with orders/read (groups); the "
        "plan admits admin, or machines with orders/write (groups)",)


# ---- live: the machines stack in the sandbox ----------------------------------------------------

JWT_TEXT = re.compile(r"eyJ[\w-]+\.[\w-]+\.")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with started(machines_config(), tmp_path_factory.mktemp("sandboxes")) as running:
        yield running


def test_verify_proves_the_whole_machines_matrix_in_the_sandbox(sandbox, capsys, monkeypatch,
                                                                 tmp_path):
    code, table, out = verify(sandbox, machines_config(), tmp_path, capsys, monkeypatch)
    document = json.loads(out)
    assert (code, document["mismatches"], document["drift"]) == (0, 0, []), out
    plan = matrix_of(machines_config())
    expected = {(c.route, c.caller): c.status for c in plan.cells if c.caller != ANONYMOUS}
    assert {k: int(v[1]) for k, v in table.items() if k in expected} == expected
    assert {caller for _, caller in table} >= {NIGHTLY, PARTNER}
    secrets = sandbox.outputs["machine_client_secrets"]
    assert set(secrets) == {"nightly-job", "partner"} and all(secrets.values())
    assert not any(secret in out for secret in secrets.values())
    assert not JWT_TEXT.search(out)


def test_the_sandboxs_own_check_sees_no_drift(sandbox, monkeypatch, tmp_path):
    """``sandbox --verify`` checks the sandbox's matrix, which shows the real local client ids,
    against its own state."""
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    out = io.StringIO()
    code = verify_module.run(sandbox.matrix, sandbox.model,
                             RetryPolicy(attempts=1, backoff=0, timeout=10), out)
    lines = out.getvalue().splitlines()
    assert code == 0, out.getvalue()
    assert not [line for line in lines if line.startswith("! ")]
    assert lines[-1] == f"All {len(ROUTES) * (len(USERS) + 5) + len(ROUTES)} cells match."
    assert not JWT_TEXT.search(out.getvalue())
