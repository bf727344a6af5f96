"""The policy pack on the program's own stacks, run as ``pulumi preview --policy-pack policy``
runs it (pulumi-policy's analyzer service, the CLI's config handling), with no Pulumi CLI.

Each stack is recorded twice under the mocks: as an update (every value known) and as a preview
of a new stack (IDs, ARNs and what derives from them unknown). The pack must pass on both, and
fail, naming the resource and the rule, on each stack with one fault: the dev stack's, a wide
one's, and the machines stack's (Pulumi.machines.yaml: resource servers, machine clients and
their secrets, routes for machines)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from google.protobuf import empty_pb2

from jwt_scoped import aws_types as t
from jwt_scoped.project import Project
from jwt_scoped.scope_format import scope_name
from policy.policies import PACK_NAME, POLICIES
from policy.settings import PolicyConfigError

from fixtures.stacks import blog_config, generated_config, scaled_config, stack_file_config
from policy_harness import (
    UNKNOWN,
    AnalyzedResource,
    InProcess,
    PolicyConfigInvalid,
    Remote,
    add,
    client_secret,
    edit,
    evaluate,
    find,
    load_config,
    pack_version,
    preview_view,
    remove,
    render,
    secret,
    update_view,
)
from policy_harness import record as record_run

ROOT = Path(__file__).resolve().parent.parent
PROJECT = Project.find(ROOT)
DEV_CONFIG = ROOT / "policy" / "stacks" / "dev.json"
MACHINES_CONFIG = ROOT / "policy" / "stacks" / "machines.json"
ROUTE, INTEGRATION = t.ROUTE, t.INTEGRATION
# The blog's one route function, hello, serves both its routes: one integration, one permission.
HELLO_INTEGRATION, HELLO_INVOKE = "api-hello-integration", "api-hello-invoke"

# The wide stack's exceptions, as its team would list them in its pack config: the dev stack's
# (policy/stacks/dev.json) plus its public health check and its route for any signed-in user.
SCALED_CONFIG = {"api-route-authorization": {"publicRoutes": ["GET /health"],
                                             "signedInRoutes": ["GET /me"]}}


def record(config: dict, stack: str, pack_config: dict | None = None) -> dict:
    update = record_run(PROJECT, config, stack=stack)
    preview = record_run(PROJECT, config, stack=stack, preview=True)
    return {"update": update_view(update), "preview": preview_view(preview, update),
            "stack": stack, "pack_config": pack_config,
            "client_id": update.of_type(t.USER_POOL_CLIENT)[0].id, "run": update}


@pytest.fixture(scope="module")
def blog() -> dict:
    """The dev stack (Pulumi.dev.yaml): a throwaway, as policy/stacks/dev.json says."""
    return record(blog_config(), "dev")


@pytest.fixture(scope="module")
def scaled() -> dict:
    """A wide stack: access tokens, three groups, CORS, a protected pool: a production stack."""
    return record(scaled_config(), "prod", SCALED_CONFIG)


@pytest.fixture(scope="module")
def machines() -> dict:
    """Pulumi.machines.yaml: two app clients for people, two machine clients (their secrets the
    secret output machine_client_secrets, as policy/stacks/machines.json lists it), a resource
    server, and routes for groups, for machines and for both. A throwaway stack."""
    return record(stack_file_config("machines"), "machines", load_config(MACHINES_CONFIG))


@pytest.fixture(scope="module")
def many_groups() -> dict:
    """Twelve groups: enough scopes that a route can demand eleven that groups grant. A
    throwaway stack (an unprotected pool), as dev.json says of "dev"."""
    return record(generated_config(routes=2, groups=12), "dev")


def check(recorded: dict, view: str, resources=None, config=None) -> list:
    if config is None:
        config = recorded["pack_config"] or load_config(DEV_CONFIG)
    return evaluate(resources if resources is not None else recorded[view], config=config,
                    stack=recorded["stack"], preview=view == "preview")


def faults(diagnostics) -> set[tuple[str, str]]:
    """(rule, resource) of each violation."""
    return {(d.policy, d.resource_name) for d in diagnostics}


VIEWS = ["update", "preview"]


# --- the program's stacks pass -------------------------------------------------------------------

@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("stack", ["blog", "scaled", "machines"])
def test_passes_on_the_programs_stacks(request, stack, view):
    diagnostics = check(request.getfixturevalue(stack), view)
    assert faults(diagnostics) == set()
    # Nothing was left unjudged: a policy that read an unknown value would say "can't run".
    assert not [d for d in diagnostics if "can't run policy" in d.message]


@pytest.mark.parametrize("view", VIEWS)
def test_the_wide_stack_needs_its_public_and_signed_in_routes_listed(scaled, view):
    """Its GET /health (public) and GET /me (signed-in) pass only because SCALED_CONFIG lists
    them (test_passes_on_the_programs_stacks)."""
    assert faults(check(scaled, view, config={
        "cognito-deletion-protection": {"throwawayStacks": []}})) == {
        ("api-route-authorization", "api-GET/health"), ("api-route-authorization", "api-GET/me")}


# --- one fault at a time --------------------------------------------------------------------------

def no_authorization(r, _):
    return edit(r, "api-GET/AdminUser", ROUTE, set={"authorizationType": "NONE"},
                drop=["authorizerId", "authorizationScopes"])


def without_source_arn(r, _):
    return edit(r, HELLO_INVOKE, drop=["sourceArn"])


def wildcard_action(r, _):
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]})
    return edit(r, "hello-logs-policy", set={"policy": document})


def stage_without_logs(r, _):
    return edit(r, "api-stage", drop=["accessLogSettings"])


def without_cognito_permission(r, _):
    return remove(r, "identity-pre-token-invoke")


def scope_no_group_grants(r, recorded):
    return edit(r, "api-GET/AdminUser", ROUTE,
                set={"authorizationScopes": [scope_name("auditor", recorded["client_id"])]})


BLOG_FAULTS = [
    (no_authorization, "api-route-authorization", "api-GET/AdminUser", "anyone can call it", VIEWS),
    (without_source_arn, "lambda-permission-source-arn", HELLO_INVOKE, "no source ARN", VIEWS),
    (wildcard_action, "iam-least-privilege", "hello-logs-policy", "'logs:*'", VIEWS),
    (stage_without_logs, "api-stage-settings", "api-stage", "access logging is off", VIEWS),
    (without_cognito_permission, "cognito-trigger-permission", "identity-user-pool",
     "no one can sign in", VIEWS),
    # The scope holds the app client's ID, which a preview of a new stack cannot know yet (see
    # test_a_scope_nobody_is_granted_is_judged_once_the_client_id_is_known).
    (scope_no_group_grants, "api-routes-admit-someone", "api-GET/AdminUser", "'auditor-", ["update"]),
]
FAULT_CASES = [pytest.param(*fault[:4], view, id=f"{fault[0].__name__}-{view}")
               for fault in BLOG_FAULTS for view in fault[4]]


@pytest.mark.parametrize(("mutate", "rule", "resource", "words", "view"), FAULT_CASES)
def test_fails_naming_the_resource_and_the_rule(blog, mutate, rule, resource, words, view):
    diagnostics = check(blog, view, mutate(blog[view], blog))
    assert faults(diagnostics) == {(rule, resource)}
    (found,) = [d for d in diagnostics if d.policy == rule]
    assert words in found.detail and found.enforcement_level == "mandatory"


def test_a_scope_nobody_is_granted_is_judged_once_the_client_id_is_known(blog):
    """In a preview of a new stack the authorizer's audience (the app client ID) is unknown, so
    the rule cannot tell which scopes groups grant: it stays silent rather than guess, and judges
    the stack at `pulumi up` and in every later preview, once the client exists."""
    mutated = scope_no_group_grants(blog["preview"], blog)
    assert faults(check(blog, "preview", mutated)) == set()


@pytest.mark.parametrize("view", VIEWS)
def test_a_route_with_eleven_scopes_fails(many_groups, view):
    scopes = [scope_name(f"group{g:02d}", many_groups["client_id"]) for g in range(11)]
    route = next(r for r in many_groups[view] if r.type == ROUTE)
    diagnostics = check(many_groups, view, edit(many_groups[view], route.name, ROUTE,
                                                set={"authorizationScopes": scopes}))
    assert faults(diagnostics) == {("api-route-authorization", route.name)}
    (found,) = [d for d in diagnostics if d.policy == "api-route-authorization"]
    assert "demands 11 scopes" in found.detail


@pytest.mark.parametrize("view", VIEWS)
def test_an_unprotected_pool_fails_in_a_stack_that_is_not_a_throwaway(scaled, view):
    unprotected = edit(scaled[view], "identity-user-pool", set={"deletionProtection": "INACTIVE"})
    diagnostics = check(scaled, view, unprotected)
    assert faults(diagnostics) == {("cognito-deletion-protection", "identity-user-pool")}
    (found,) = [d for d in diagnostics if d.policy == "cognito-deletion-protection"]
    assert "'prod'" in found.detail
    throwaway = {**SCALED_CONFIG, "cognito-deletion-protection": {"throwawayStacks": ["prod"]}}
    assert faults(check(scaled, view, unprotected, config=throwaway)) == set()


def test_the_dev_stack_passes_only_because_its_config_marks_it_throwaway(blog):
    assert faults(check(blog, "update", config={})) == {
        ("cognito-deletion-protection", "identity-user-pool")}


# --- machines as callers (Pulumi.machines.yaml) -------------------------------------------------

PARTNER, NIGHTLY = "identity-machine-partner", "identity-machine-nightly-job"
PARTNER_SECRET = client_secret(PARTNER)


def stack_of(resources) -> AnalyzedResource:
    (stack,) = [r for r in resources if r.type == t.STACK]
    return stack


def default_auth_flows(r, _):
    """A machine client without explicitAuthFlows: Cognito's default lets users sign in."""
    return edit(r, PARTNER, drop=["explicitAuthFlows"])


def machine_with_srp(r, _):
    return edit(r, PARTNER, set={"explicitAuthFlows": ["ALLOW_USER_SRP_AUTH",
                                                      "ALLOW_REFRESH_TOKEN_AUTH"]})


def machine_with_code_grant(r, _):
    return edit(r, PARTNER, set={"allowedOauthFlows": ["client_credentials", "code"]})


def secret_exported_in_clear(r, _):
    """A stack output the program would export as `pulumi.export("partner", client.client_secret)`."""
    return edit(r, stack_of(r).name, t.STACK, set={"partner_secret": PARTNER_SECRET})


def secret_in_an_environment(r, _):
    return edit(r, "hello", t.FUNCTION,
                set={"environment": {"variables": {"PARTNER_SECRET": PARTNER_SECRET}}})


def scope_no_server_defines(r, _):
    return edit(r, "api-GET/Orders", ROUTE, set={"authorizationScopes": ["orders/delete"]})


def scope_no_client_may_request(r, _):
    """Neither machine client may request orders/read any more: GET /Orders admits nobody."""
    r = edit(r, PARTNER, set={"allowedOauthScopes": ["orders/write"]})
    return edit(r, NIGHTLY, set={"allowedOauthScopes": ["orders/write"]})


MACHINE_FAULTS = [
    (default_auth_flows, "cognito-machine-client-sign-in", PARTNER, "Cognito's default allows",
     VIEWS),
    (machine_with_srp, "cognito-machine-client-sign-in", PARTNER, "ALLOW_USER_SRP_AUTH", VIEWS),
    (machine_with_code_grant, "cognito-machine-client-sign-in", PARTNER, "Cognito refuses", VIEWS),
    # A client's secret exists once the client does: judged at `pulumi up` and in later previews
    # (test_a_client_secret_is_judged_once_it_exists).
    (secret_exported_in_clear, "cognito-client-secret-exposure", "jwt-scoped-api-machines",
     "stack output 'partner_secret' holds the secret of app client 'partner'", ["update"]),
    (secret_in_an_environment, "cognito-client-secret-exposure", "hello",
     "holds the secret of app client 'partner'", ["update"]),
    (scope_no_server_defines, "api-machine-scopes-requestable", "api-GET/Orders",
     "'delete', which resource server 'orders' does not define", VIEWS),
    (scope_no_client_may_request, "api-machine-scopes-requestable", "api-GET/Orders",
     "'orders/read' that no app client the API admits may request", VIEWS),
]
MACHINE_CASES = [pytest.param(*fault[:4], view, id=f"{fault[0].__name__}-{view}")
                 for fault in MACHINE_FAULTS for view in fault[4]]


@pytest.mark.parametrize(("mutate", "rule", "resource", "words", "view"), MACHINE_CASES)
def test_the_machines_stack_fails_naming_the_resource_and_the_rule(machines, mutate, rule,
                                                                   resource, words, view):
    diagnostics = check(machines, view, mutate(machines[view], machines))
    assert faults(diagnostics) == {(rule, resource)}
    found = [d for d in diagnostics if d.policy == rule]
    assert any(words in d.detail for d in found), [d.detail for d in found]
    assert {d.enforcement_level for d in found} == {"mandatory"}


def test_the_machine_clients_are_the_ones_the_rules_judge(machines):
    """What passes passes on the real thing: client credentials only, refresh-token auth only,
    a secret the stack exports, routes that demand orders/read and orders/write."""
    run = machines["run"]
    clients = {c.name: c.wire_inputs for c in run.of_type(t.USER_POOL_CLIENT)}
    assert clients[PARTNER]["allowedOauthFlows"] == ["client_credentials"]
    assert clients[PARTNER]["explicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]
    assert run.exports["machine_client_secrets"]["partner"] == PARTNER_SECRET
    assert run.secret["machine_client_secrets"] is True
    scopes = {r.name: r.wire_inputs.get("authorizationScopes") for r in run.of_type(ROUTE)}
    assert scopes["api-GET/Orders"] == ["orders/read"] and "orders/write" in scopes["api-POST/Orders"]


@pytest.mark.parametrize("view", VIEWS)
def test_the_secret_output_passes_only_because_the_config_lists_it(machines, view):
    """The pack cannot see that machine_client_secrets is a secret output: machines.json says so."""
    config = {**load_config(MACHINES_CONFIG), "cognito-client-secret-exposure": {}}
    diagnostics = check(machines, view, config=config)
    if view == "preview":  # the secrets do not exist yet
        assert faults(diagnostics) == set()
        return
    assert faults(diagnostics) == {("cognito-client-secret-exposure", "jwt-scoped-api-machines")}
    (found,) = diagnostics
    assert "'machine_client_secrets' holds the secret of app clients 'nightly-job', 'partner'" in (
        found.detail)


def test_a_client_secret_is_judged_once_it_exists(machines):
    """In a preview of a new stack the client's secret is unknown (Cognito makes it), and so is
    every value made from it: the rule stays silent, and judges the stack at `pulumi up` and in
    every later preview."""
    client = find(machines["preview"], PARTNER)
    assert client.state["clientSecret"] == UNKNOWN
    leaked = edit(machines["preview"], stack_of(machines["preview"]).name, t.STACK,
                  set={"partner_secret": UNKNOWN})
    assert faults(check(machines, "preview", leaked)) == set()


def test_a_listed_secret_store_may_hold_a_copy_and_a_stale_listing_is_refused(machines):
    store = "aws:secretsmanager/secretVersion:SecretVersion"
    version = AnalyzedResource(
        stack_of(machines["update"]).urn.rsplit("::", 2)[0] + f"::{store}::partner-secret", store,
        "partner-secret", {"secretString": secret(PARTNER_SECRET)},
        {"secretString": secret(PARTNER_SECRET), "id": "partner-secret-id"})
    resources = add(machines["update"], version)
    assert faults(check(machines, "update", resources)) == {
        ("cognito-client-secret-exposure", "partner-secret")}
    config = load_config(MACHINES_CONFIG)
    config["cognito-client-secret-exposure"] = {"secretOutputs": ["machine_client_secrets"],
                                                "secretStores": [store]}
    assert faults(check(machines, "update", resources, config=config)) == set()
    config["cognito-client-secret-exposure"]["secretOutputs"].append("partner_secret")
    diagnostics = check(machines, "update", config=config)
    assert faults(diagnostics) == {("cognito-client-secret-exposure", "jwt-scoped-api-machines")}
    assert "secretOutputs lists 'partner_secret', but the stack has no output" in (
        diagnostics[0].detail)


def test_a_stack_policy_sees_secret_outputs_in_clear_and_cannot_tell_them_secret(machines):
    """What rule 2 can see: the engine sends the stack's outputs, and the client's state, with
    their secrets marked (KeepSecrets); pulumi-policy unwraps the marks before a policy runs, so
    a secret output and a plain one look the same to it."""
    from pulumi_policy import EnforcementLevel, Secret, StackValidationPolicy

    seen = {}

    def probe(args, report_violation):
        for r in args.resources:
            if r.resource_type == t.STACK:
                seen["stack"] = r.props["machine_client_secrets"]["partner"]
                seen["plain"] = r.props["api_url"]
            if r.name == PARTNER:
                seen["client"] = r.props["clientSecret"]

    policy = StackValidationPolicy(name="probe", description="probe", validate=probe,
                                   enforcement_level=EnforcementLevel.ADVISORY)
    stack = stack_of(machines["update"])
    assert stack.state["machine_client_secrets"] == secret(
        machines["run"].exports["machine_client_secrets"])
    assert find(machines["update"], PARTNER).state["clientSecret"] == secret(PARTNER_SECRET)
    evaluate(machines["update"], stack="machines", analyzer=InProcess([policy]))
    assert seen["stack"] == seen["client"] == PARTNER_SECRET
    assert type(seen["stack"]) is type(seen["plain"]) is str and not isinstance(seen["stack"], Secret)


@pytest.mark.parametrize("view", VIEWS)
def test_group_scopes_of_the_machines_stack_are_still_judged(machines, view):
    """Machine scopes are left to api-machine-scopes-requestable; a group scope nobody grants is
    still found by api-routes-admit-someone (once the client IDs it holds are known)."""
    auditor = [scope_name("auditor", machines["client_id"]), "orders/read"]
    mutated = edit(machines[view], "api-GET/Orders", ROUTE, set={"authorizationScopes": auditor})
    expected = {("api-routes-admit-someone", "api-GET/Orders")} if view == "update" else set()
    assert faults(check(machines, view, mutated)) == expected


# --- route exceptions and CORS preflight routes ------------------------------------------------

def new_route(resources, template: str, key: str, **props) -> list[AnalyzedResource]:
    """A route beside ``template`` on the same API (same dependencies), with key ``key``: for
    routes the program does not produce (the scaled stack has its public, signed-in and
    preflight routes)."""
    base = find(resources, template, ROUTE)
    name = f"api-{key.replace(' ', '', 1)}"
    route = AnalyzedResource(base.urn.rsplit("::", 1)[0] + f"::{name}", ROUTE, name,
                             {**base.inputs, "routeKey": key}, {**base.state, "routeKey": key},
                             base.parent, base.dependencies, dict(base.property_dependencies))
    resources = add(resources, route)
    drop = [k for k, v in props.items() if v is None]
    return edit(resources, name, ROUTE, set={k: v for k, v in props.items() if v is not None},
                drop=drop)


def public_route(resources, key, template="api-GET/AdminUser"):
    return new_route(resources, template, key, authorizationType="NONE", authorizerId=None,
                     authorizationScopes=None)


def test_exceptions_must_match_what_the_stack_has(blog):
    stale = {"api-route-authorization": {"publicRoutes": ["GET /health", "GET /AdminUser"]},
             "cognito-deletion-protection": {"throwawayStacks": ["dev"]}}
    diagnostics = check(blog, "update", config=stale)
    assert faults(diagnostics) == {("api-route-authorization", "jwt-scoped-api-dev")}
    details = sorted(d.detail for d in diagnostics if d.policy == "api-route-authorization")
    assert "'GET /AdminUser', but that route is scoped to groups" in details[0]
    assert "'GET /health', but no route of this stack has that key" in details[1]


@pytest.mark.parametrize("view", VIEWS)
def test_the_components_preflight_route_unblocks_preflights_and_needs_no_exception(scaled, view):
    """ScopedHttpApi's public OPTIONS route for the wide stack's ANY route passes on its own;
    without it the ANY route would answer every preflight with 401."""
    assert [d for d in check(scaled, view)
            if d.policy in ("api-cors-preflight", "api-route-authorization")] == []
    without = remove(scaled[view], "api-OPTIONS/admin/{proxy+}")
    assert ("api-cors-preflight", "api-ANY/admin/{proxy+}") in faults(check(scaled, view, without))


@pytest.mark.parametrize("view", VIEWS)
def test_a_preflight_route_may_not_reach_a_handler_of_token_routes(scaled, view):
    """A public OPTIONS route integrated with the function of the token routes (hello) would
    let anyone call it."""
    hello = find(scaled[view], HELLO_INTEGRATION, INTEGRATION)
    target = f"integrations/{hello.state['id']}" if view == "update" else UNKNOWN
    shortcut = edit(scaled[view], "api-OPTIONS/admin/{proxy+}", ROUTE, set={"target": target},
                    sources={"target": [hello.urn]})
    diagnostics = check(scaled, view, shortcut)
    assert ("api-route-authorization", "api-OPTIONS/admin/{proxy+}") in faults(diagnostics)
    (found,) = [d for d in diagnostics if d.policy == "api-route-authorization"]
    assert "integration of their own" in found.detail


def test_an_options_route_on_an_api_without_cors_needs_an_exception(blog):
    diagnostics = check(blog, "update", public_route(blog["update"], "OPTIONS /AdminUser"))
    assert faults(diagnostics) == {("api-route-authorization", "api-OPTIONS/AdminUser")}


# --- enforcement levels and config, as the CLI applies them ------------------------------------

def test_each_rules_enforcement_level_is_configurable(blog):
    resources = without_source_arn(no_authorization(blog["update"], blog), blog)
    config = {**load_config(DEV_CONFIG), "lambda-permission-source-arn": "advisory"}
    levels = {d.policy: d.enforcement_level for d in check(blog, "update", resources, config)}
    assert levels == {"api-route-authorization": "mandatory",
                      "lambda-permission-source-arn": "advisory"}
    config["api-route-authorization"] = {"enforcementLevel": "disabled"}
    assert faults(check(blog, "update", resources, config)) == {
        ("lambda-permission-source-arn", HELLO_INVOKE)}
    everything = {**load_config(DEV_CONFIG), "all": "advisory"}
    assert {d.enforcement_level for d in check(blog, "update", resources, everything)} == {"advisory"}


def test_a_config_the_schema_refuses_is_refused_as_the_cli_does(blog):
    with pytest.raises(PolicyConfigInvalid, match="api-route-authorization: 'GET /x' is not of type 'array'"):
        check(blog, "update", config={"api-route-authorization": {"publicRoutes": "GET /x"}})
    with pytest.raises(PolicyConfigInvalid, match="'strict' is not a valid enforcement level"):
        check(blog, "update", config={"all": "strict"})


def test_a_misspelt_option_stops_the_pack_naming_it(blog):
    with pytest.raises(PolicyConfigError, match="'publicRoute'"):
        check(blog, "update", config={"api-route-authorization": {"publicRoute": ["GET /x"]}})


def test_every_policy_is_named_described_in_one_line_and_mandatory_by_default():
    info = InProcess().call("GetAnalyzerInfo", empty_pb2.Empty())
    assert [p.name for p in info.policies] == [p.name for p in POLICIES]
    assert len({p.name for p in POLICIES}) == len(POLICIES) == 15
    for policy in info.policies:
        assert policy.description and "\n" not in policy.description
        assert policy.enforcementLevel == 1  # MANDATORY


# --- the pack as the CLI starts it, and what the CLI prints -------------------------------------

def test_the_pack_started_as_the_cli_starts_it_says_the_same(blog):
    resources = no_authorization(blog["preview"], blog)
    remote = Remote(stack="dev", project="jwt-scoped-api", preview=True)
    try:
        over_grpc = evaluate(resources, config=load_config(DEV_CONFIG), preview=True,
                             analyzer=remote)
    finally:
        remote.close()
    in_process = evaluate(resources, config=load_config(DEV_CONFIG), preview=True)
    assert over_grpc == in_process
    assert ("api-route-authorization", "api-GET/AdminUser") in faults(over_grpc)


def test_violations_print_in_the_clis_shape(blog):
    diagnostics = check(blog, "update", no_authorization(blog["update"], blog))
    text = render(diagnostics, pack=PACK_NAME, version=pack_version())
    lines = text.splitlines()
    assert lines[:3] == [
        "Policies:",
        f"    ❌ {PACK_NAME}@v{pack_version()} (local: policy)",
        "        - [mandatory]  api-route-authorization  (aws:apigatewayv2:Route: api-GET/AdminUser)"]
    assert lines[3].strip() == next(p.description for p in POLICIES
                                    if p.name == "api-route-authorization")
    assert "'GET /AdminUser' takes no token" in lines[4]
    passing = render([], pack=PACK_NAME, version="1").splitlines()
    assert passing == ["Policies:", "    ✅ jwt-scoped-api@v1 (local: policy)"]


def test_unknown_values_reach_the_pack_as_the_engine_marks_them(blog):
    permission = find(blog["preview"], HELLO_INVOKE)
    assert permission.inputs["sourceArn"] == UNKNOWN and permission.state["id"] == UNKNOWN
    assert any(u.endswith("::api-api") for u in permission.property_dependencies["sourceArn"])


def test_the_pack_layout_is_what_pulumi_preview_expects():
    pack = ROOT / "policy"
    project = yaml.safe_load((pack / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python" and project["version"] == pack_version()
    assert (pack / "__main__.py").is_file()
    requirements = (pack / "requirements.txt").read_text().splitlines()
    assert "pulumi-policy>=1.21,<2" in requirements and ".." in requirements  # jwt-scoped
    # The tests run the pack with the same pulumi-policy.
    assert "pulumi-policy>=1.21,<2" in (ROOT / "requirements-dev.txt").read_text().splitlines()


def preview_steps() -> list[dict]:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pull-request.yml").read_text())
    return workflow["jobs"]["preview"]["steps"]


def pack_install(steps: list[dict]) -> tuple[dict, Path]:
    """The step that installs the pack's requirements, and the folder its commands run in."""
    (step,) = [s for s in steps if "requirements.txt" in s.get("run", "")
               and "policy" in s["run"] + s.get("working-directory", "")]
    folder = ROOT / step.get("working-directory", ".")
    if step["run"].lstrip().startswith("cd policy"):
        folder = folder / "policy"
    return step, folder.resolve()


def test_the_pull_request_preview_runs_this_pack_with_this_config():
    steps = preview_steps()
    (preview,) = [s for s in steps if s.get("uses", "").startswith("pulumi/actions@")]
    assert preview["with"]["command"] == "preview" and preview["with"]["stack-name"] == "dev"
    assert preview["with"]["policyPacks"] == "policy"
    assert ROOT / preview["with"]["policyPackConfigs"] == DEV_CONFIG
    venv = yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())["runtime"]["options"][
        "virtualenv"]
    install, folder = pack_install(steps)
    created = re.search(r"-m venv (\S+)", install["run"])
    assert created and (folder / created.group(1)).resolve() == ROOT / "policy" / venv
    assert steps.index(preview) > steps.index(install)


def test_the_pull_request_installs_the_packs_requirements_in_the_packs_folder():
    """requirements.txt names this repository as "..": pip resolves a requirement's directory
    against its working directory, not the requirements file's folder (pypa/pip#8765), so the
    install must run in policy/, as `pulumi install` there and the Pulumi CLI do."""
    assert ".." in (ROOT / "policy" / "requirements.txt").read_text().splitlines()
    _, folder = pack_install(preview_steps())
    assert folder == ROOT / "policy"
