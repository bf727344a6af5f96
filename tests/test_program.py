"""The whole program (__main__.py) under mocks, for the blog's stack and a larger one.

Every expectation is derived from the config and from IDs the mocked provider handed out, never
copied from the program's own output."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pulumi
import pytest

from jwt_scoped.package import PACKAGE
from jwt_scoped.recording import Run, flatten_config, run_program, secret_value
from program import outputs as stack_outputs

from fixtures.stacks import NS, PROJECT, ROOT, blog_config, generated_config, scaled_config
from fixtures.trigger_events import V1_EVENT, V2_EVENT
from functions_loader import load_handler

FUNCTION = "aws:lambda/function:Function"
ROUTE = "aws:apigatewayv2/route:Route"
INTEGRATION = "aws:apigatewayv2/integration:Integration"
PERMISSION = "aws:lambda/permission:Permission"
POOL = "aws:cognito/userPool:UserPool"
CLIENT = "aws:cognito/userPoolClient:UserPoolClient"


@pytest.fixture(scope="module")
def blog() -> Run:
    return run_program(PROJECT, blog_config())


@pytest.fixture(scope="module")
def scaled() -> Run:
    return run_program(PROJECT, scaled_config())


@pytest.fixture(params=["blog", "scaled"])
def case(request, blog, scaled):
    """(config, run) for both stacks."""
    return {"blog": (blog_config(), blog), "scaled": (scaled_config(), scaled)}[request.param]


def client_id(run: Run) -> str:
    return run.one(CLIENT).id


def function_of_route(run: Run, route) -> object:
    integration_id = route.inputs["target"].removeprefix("integrations/")
    integration = run.by_id(INTEGRATION, integration_id)
    return next(f for f in run.of_type(FUNCTION)
                if f.outputs["arn"] == integration.inputs["integrationUri"])


def configured_routes(run: Run, config: dict) -> dict:
    """Route key -> recorded route, for the routes the config asks for."""
    wanted = {r["route"] for r in config[f"{NS}:routes"]}
    return {r.inputs["routeKey"]: r for r in run.of_type(ROUTE) if r.inputs["routeKey"] in wanted}


def test_each_route_admits_whom_its_access_says(case):
    config, run = case
    cid = client_id(run)
    authorizer = run.one("aws:apigatewayv2/authorizer:Authorizer")
    routes = configured_routes(run, config)
    assert set(routes) == {r["route"] for r in config[f"{NS}:routes"]}
    for spec in config[f"{NS}:routes"]:
        route = routes[spec["route"]].inputs
        access = spec.get("access", "groups")
        if access == "public":
            assert route["authorizationType"] == "NONE" and "authorizerId" not in route
        else:
            assert (route["authorizationType"], route["authorizerId"]) == ("JWT", authorizer.id)
        if access == "groups":
            assert route["authorizationScopes"] == [f"{group}-{cid}" for group in spec["groups"]]
        else:
            assert "authorizationScopes" not in route


def test_cors_preflights_of_protected_any_routes_get_public_options_routes(blog, scaled):
    assert not [r for r in blog.of_type(ROUTE) if r.inputs["routeKey"].startswith("OPTIONS")]
    extra = {r.inputs["routeKey"]: r.inputs for r in scaled.of_type(ROUTE)
             if r.inputs["routeKey"] not in configured_routes(scaled, scaled_config())}
    assert list(extra) == ["OPTIONS /admin/{proxy+}"]  # for ANY /admin/{proxy+}, admin only
    assert extra["OPTIONS /admin/{proxy+}"]["authorizationType"] == "NONE"


def test_one_jwt_authorizer_checks_this_pool_and_client(case):
    _, run = case
    authorizer = run.one("aws:apigatewayv2/authorizer:Authorizer")
    pool = run.one(POOL)
    assert authorizer.inputs["authorizerType"] == "JWT"
    assert authorizer.inputs["identitySources"] == ["$request.header.Authorization"]
    assert authorizer.inputs["jwtConfiguration"] == {
        "issuer": f"https://{pool.outputs['endpoint']}", "audiences": [client_id(run)]}


def test_issuer_is_derived_from_the_pool_in_the_stack_region(case):
    config, run = case
    pool_id = run.one(POOL).id
    assert run.exports["issuer_url"] == (
        f"https://cognito-idp.{config['aws:region']}.amazonaws.com/{pool_id}")


def test_each_route_reaches_the_function_it_names_through_a_lambda_proxy(case):
    config, run = case
    routes = {r.inputs["routeKey"]: r for r in run.of_type(ROUTE)}
    for spec in config[f"{NS}:routes"]:
        function = function_of_route(run, routes[spec["route"]])
        assert function.name == spec["function"].replace("_", "-")
    for integration in run.of_type(INTEGRATION):
        assert integration.inputs["integrationType"] == "AWS_PROXY"
        assert integration.inputs["payloadFormatVersion"] == "2.0"


def test_one_function_integration_and_permission_per_distinct_function(case):
    config, run = case
    distinct = {r["function"] for r in config[f"{NS}:routes"]}
    route_functions = [f for f in run.of_type(FUNCTION)
                       if f.name not in ("identity-pre-token", "api-cors-preflight")]
    assert sorted(f.name for f in route_functions) == sorted(
        d.replace("_", "-") for d in distinct)
    preflight = len(run.of_type(FUNCTION)) - len(route_functions) - 1
    assert len(run.of_type(INTEGRATION)) == len(distinct) + preflight
    api_permissions = [p for p in run.of_type(PERMISSION)
                       if p.inputs["principal"] == "apigateway.amazonaws.com"]
    assert sorted(p.inputs["function"] for p in api_permissions) == sorted(
        f.outputs["arn"] for f in run.of_type(FUNCTION) if f.name != "identity-pre-token")


def test_api_gateway_may_invoke_route_functions_from_this_api_only(case):
    _, run = case
    execution_arn = run.one("aws:apigatewayv2/api:Api").outputs["executionArn"]
    for permission in run.of_type(PERMISSION):
        if permission.inputs["principal"] == "apigateway.amazonaws.com":
            assert permission.inputs["action"] == "lambda:InvokeFunction"
            assert permission.inputs["sourceArn"] == f"{execution_arn}/*/*"


def test_cognito_may_invoke_the_trigger_from_this_pool_only(case):
    _, run = case
    trigger = next(f for f in run.of_type(FUNCTION) if f.name == "identity-pre-token")
    cognito = [p for p in run.of_type(PERMISSION)
               if p.inputs["principal"] == "cognito-idp.amazonaws.com"]
    assert len(cognito) == 1
    assert cognito[0].inputs["function"] == trigger.outputs["name"]
    assert cognito[0].inputs["sourceArn"] == run.one(POOL).outputs["arn"]


@pytest.mark.parametrize("which, version, tier", [("blog", "V1_0", "LITE"),
                                                  ("scaled", "V2_0", "ESSENTIALS")])
def test_trigger_version_and_plan_follow_token_use(which, version, tier, blog, scaled):
    run = {"blog": blog, "scaled": scaled}[which]
    trigger = next(f for f in run.of_type(FUNCTION) if f.name == "identity-pre-token")
    pool = run.one(POOL)
    assert pool.inputs["lambdaConfig"] == {"preTokenGenerationConfig": {
        "lambdaArn": trigger.outputs["arn"], "lambdaVersion": version}}
    assert pool.inputs["userPoolTier"] == tier


def test_switching_token_use_updates_the_pool_in_place(blog):
    """Replacing a pool deletes its users. Every pool input that switching tokenUse changes is a
    parameter of UpdateUserPool, the call that updates a pool in place (botocore's model of the
    Cognito API), and none is one Cognito fixes at creation."""
    import botocore.session

    switched = blog_config()
    switched[f"{NS}:tokenUse"] = "access"
    before, after = blog.one(POOL), run_program(PROJECT, switched).one(POOL)
    changed = {k for k in before.inputs.keys() | after.inputs.keys()
               if before.inputs.get(k) != after.inputs.get(k)}
    assert changed == {"userPoolTier", "lambdaConfig"}
    update = botocore.session.get_session().get_service_model("cognito-idp").operation_model(
        "UpdateUserPool").input_shape.members
    assert {key[0].upper() + key[1:] for key in changed} <= set(update)
    assert before.name == after.name  # same resource: an update, not a new pool


def test_trigger_ships_the_one_scope_format_beside_its_handler(blog):
    from jwt_scoped import scope_format

    trigger = next(f for f in blog.of_type(FUNCTION) if f.name == "identity-pre-token")
    assets = trigger.inputs["code"].assets
    assert sorted(assets) == ["handler.py", "scope_format.py"]
    assert assets["scope_format.py"].path == scope_format.__file__
    assert trigger.inputs["timeout"] == 5


def test_stage_auto_deploys_with_throttling_and_json_access_logs(case):
    config, run = case
    stage = run.one("aws:apigatewayv2/stage:Stage")
    assert stage.inputs["name"] == config.get(f"{NS}:stageName", "$default")
    assert stage.inputs["autoDeploy"] is True
    assert stage.inputs["defaultRouteSettings"] == {
        "throttlingBurstLimit": config.get(f"{NS}:throttlingBurstLimit", 100),
        "throttlingRateLimit": config.get(f"{NS}:throttlingRateLimit", 50)}
    logs = run.named("api-access-logs")
    assert stage.inputs["accessLogSettings"]["destinationArn"] == logs.outputs["arn"]
    assert logs.inputs["retentionInDays"] == config.get(f"{NS}:logRetentionDays", 30)
    log_format = json.loads(stage.inputs["accessLogSettings"]["format"])
    assert log_format["authorizerError"] == "$context.authorizer.error"
    assert log_format["status"] == "$context.status"


def test_app_client_is_public_with_password_auth_and_code_grant(case):
    config, run = case
    client = run.one(CLIENT).inputs
    assert client["generateSecret"] is False
    assert set(client["explicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    assert client["allowedOauthFlowsUserPoolClient"] is True
    assert client["allowedOauthFlows"] == ["code"]
    assert set(client["allowedOauthScopes"]) == {"phone", "email", "openid", "profile"}
    assert client["callbackUrls"] == config[f"{NS}:callbackUrls"]
    assert client["supportedIdentityProviders"] == ["COGNITO"]


def test_groups_users_and_memberships_match_the_config(case):
    config, run = case
    pool_id = run.one(POOL).id
    groups = run.of_type("aws:cognito/userGroup:UserGroup")
    assert sorted(g.inputs["name"] for g in groups) == sorted(
        g["name"] for g in config[f"{NS}:groups"])
    assert all(g.inputs["userPoolId"] == pool_id for g in groups)
    memberships = {(m.inputs["username"], m.inputs["groupName"])
                   for m in run.of_type("aws:cognito/userInGroup:UserInGroup")}
    assert memberships == {(u["username"], g) for u in config[f"{NS}:users"]
                           for g in u.get("groups", [])}


def test_users_get_generated_permanent_passwords_and_no_invitation(case):
    config, run = case
    passwords = {p.name: p for p in run.of_type("random:index/randomPassword:RandomPassword")}
    users = run.of_type("aws:cognito/user:User")
    assert sorted(u.inputs["username"] for u in users) == sorted(
        u["username"] for u in config[f"{NS}:users"])
    for user in users:
        generated = passwords[f"identity-password-{user.inputs['username']}"]
        assert secret_value(user.inputs["password"]) == generated.outputs["result"]
        assert user.inputs["messageAction"] == "SUPPRESS"
        assert "temporaryPassword" not in user.inputs
        assert generated.inputs["length"] >= 12  # the pool's minimum length
    assert run.exports["test_user_passwords"] == {
        name.removeprefix("identity-password-"): p.outputs["result"]
        for name, p in passwords.items()}


def test_the_program_exports_every_output_and_only_the_passwords_are_secret(case):
    _, run = case
    assert list(run.exports) == list(stack_outputs.ALL)
    assert {name for name, secret in run.secret.items() if secret} == set(stack_outputs.SECRET)


def test_exports_name_the_deployed_endpoints_and_scopes(case):
    config, run = case
    api = run.one("aws:apigatewayv2/api:Api")
    stage = config.get(f"{NS}:stageName", "$default")
    base = f"{api.outputs['apiEndpoint']}/{'' if stage == '$default' else stage}"
    assert run.exports["api_url"] == base
    assert run.exports["route_urls"] == {
        r["route"]: base.rstrip("/") + r["route"].split(" ", 1)[1]
        for r in config[f"{NS}:routes"]}
    assert run.exports["user_pool_id"] == run.one(POOL).id
    assert run.exports["app_client_id"] == client_id(run)
    assert run.exports["scopes"] == {g["name"]: f"{g['name']}-{client_id(run)}"
                                     for g in config[f"{NS}:groups"]}
    assert run.exports["token_use"] == config.get(f"{NS}:tokenUse", "id")
    domain = run.one("aws:cognito/userPoolDomain:UserPoolDomain").inputs["domain"]
    assert run.exports["hosted_ui_url"].startswith(
        f"https://{domain}.auth.{config['aws:region']}.amazoncognito.com/oauth2/authorize?")
    assert f"client_id={client_id(run)}" in run.exports["hosted_ui_url"]


def test_cors_is_configured_only_when_origins_are_given(blog, scaled):
    assert "corsConfiguration" not in blog.one("aws:apigatewayv2/api:Api").inputs
    cors = scaled.one("aws:apigatewayv2/api:Api").inputs["corsConfiguration"]
    assert cors["allowOrigins"] == ["https://app.example.com"]
    assert cors["allowMethods"] == ["*"]  # the scaled stack has an ANY route
    assert "authorization" in cors["allowHeaders"]


def test_every_function_runs_a_current_python_with_its_own_role_and_log_group(case):
    _, run = case
    roles = {r.outputs["arn"]: r for r in run.of_type("aws:iam/role:Role")}
    log_groups = {g.outputs["name"]: g for g in run.of_type("aws:cloudwatch/logGroup:LogGroup")}
    functions = run.of_type(FUNCTION)
    assert len({f.inputs["role"] for f in functions}) == len(functions)
    for function in functions:
        major, minor = map(int, function.inputs["runtime"].removeprefix("python").split("."))
        assert (major, minor) >= (3, 12)
        trust = json.loads(roles[function.inputs["role"]].inputs["assumeRolePolicy"])
        assert [s["Principal"] for s in trust["Statement"]] == [
            {"Service": "lambda.amazonaws.com"}]
        log_group = log_groups[function.inputs["loggingConfig"]["logGroup"]]
        assert log_group.inputs["retentionInDays"] > 0


def test_function_policies_write_to_their_own_log_group_and_nothing_else(case):
    _, run = case
    roles = {r.id: r for r in run.of_type("aws:iam/role:Role")}
    log_groups = {g.outputs["name"]: g for g in run.of_type("aws:cloudwatch/logGroup:LogGroup")}
    policies = run.of_type("aws:iam/rolePolicy:RolePolicy")
    assert len(policies) == len(run.of_type(FUNCTION))
    for function in run.of_type(FUNCTION):
        role = next(r for r in roles.values() if r.outputs["arn"] == function.inputs["role"])
        (policy,) = [p for p in policies if p.inputs["role"] == role.id]
        group_arn = log_groups[function.inputs["loggingConfig"]["logGroup"]].outputs["arn"]
        statements = json.loads(policy.inputs["policy"])["Statement"]
        assert statements == [{"Effect": "Allow",
                               "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                               "Resource": f"{group_arn}:log-stream:*"}]


def test_no_policy_anywhere_allows_every_action(case):
    _, run = case
    for resource in run.registered:
        for key in ("policy", "assumeRolePolicy"):
            if key in resource.inputs:
                for statement in json.loads(resource.inputs[key])["Statement"]:
                    actions = statement["Action"]
                    actions = [actions] if isinstance(actions, str) else actions
                    assert not any(a == "*" or a.endswith(":*") for a in actions), resource.name


@pytest.mark.parametrize("which, protected", [("blog", False), ("scaled", True)])
def test_pool_protection_follows_config_and_is_on_by_default(which, protected, blog, scaled):
    run = {"blog": blog, "scaled": scaled}[which]
    pool = run.one(POOL)
    assert pool.inputs["deletionProtection"] == ("ACTIVE" if protected else "INACTIVE")
    assert (pool.name in run.protected) is protected


def test_editing_groups_users_and_routes_leaves_the_pool_untouched(blog):
    edited = blog_config()
    edited[f"{NS}:groups"].append({"name": "auditor", "description": "Reads logs"})
    edited[f"{NS}:groups"][0]["description"] = "Changed"
    edited[f"{NS}:users"] = [{"username": "newuser", "groups": ["auditor"]},
                             {"username": "adminuser", "groups": ["admin"]}]
    edited[f"{NS}:routes"].append(
        {"route": "DELETE /items/{id}", "function": "hello", "groups": ["admin", "auditor"]})
    edited[f"{NS}:routes"].pop(1)
    after = run_program(PROJECT, edited)
    assert after.one(POOL).inputs == blog.one(POOL).inputs
    assert after.one(POOL).name == blog.one(POOL).name
    # and the edits did take effect
    assert len(after.of_type("aws:cognito/userGroup:UserGroup")) == 3
    assert {r.inputs["routeKey"] for r in after.of_type(ROUTE)} == {
        "GET /AdminUser", "DELETE /items/{id}"}


def test_every_resource_belongs_to_a_component(case):
    _, run = case
    components = {r.name for r in run.registered if r.type.startswith(f"{PACKAGE}:index:")}
    assert {"identity", "api", "identity-pre-token"} <= components
    for resource in run.registered:
        if resource.name not in components or resource.name == "identity-pre-token":
            assert run.parents.get(resource.name) in components, resource.name


def test_config_handed_over_in_the_environment_is_read_too(monkeypatch):
    """`pulumi up` passes the stack config to the program in PULUMI_CONFIG; the mocks use
    set_all_config. The program must see (and validate) both."""
    config = blog_config()
    config[f"{NS}:stageName"] = "FromEnv"
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(flatten_config(config)))
    run = run_program(PROJECT, {})
    assert run.one("aws:apigatewayv2/stage:Stage").inputs["name"] == "FromEnv"
    config[f"{NS}:stagename"] = "typo"
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(flatten_config(config)))
    with pytest.raises(pulumi.RunError, match=f"{NS}:stagename: unknown config key"):
        run_program(PROJECT, {})


def test_the_trigger_grants_exactly_the_scopes_the_deployed_routes_demand(case):
    """End to end through the real handler: for each configured user, a token whose scope claim
    the trigger wrote from the user's groups and the mocked app client id passes a route's
    scope check (API Gateway: at least one scope in common) exactly when the user is in one of
    the route's groups."""
    config, run = case
    handler = load_handler("trigger").handler
    token_use = config.get(f"{NS}:tokenUse", "id")
    routes = {r.inputs["routeKey"]: set(r.inputs["authorizationScopes"])
              for r in run.of_type(ROUTE) if "authorizationScopes" in r.inputs}
    for user in config[f"{NS}:users"]:
        event = copy.deepcopy(V1_EVENT if token_use == "id" else V2_EVENT)
        event["callerContext"]["clientId"] = client_id(run)
        event["request"]["groupConfiguration"]["groupsToOverride"] = user.get("groups", [])
        response = handler(event, None)["response"]
        if token_use == "id":
            claim = (response.get("claimsOverrideDetails") or {}).get(
                "claimsToAddOrOverride", {}).get("scope", "")
            granted = set(claim.split())
        else:
            details = response.get("claimsAndScopeOverrideDetails") or {}
            granted = set(details.get("accessTokenGeneration", {}).get("scopesToAdd", []))
        for spec in config[f"{NS}:routes"]:
            if "groups" in spec:
                admitted = bool(set(user.get("groups", [])) & set(spec["groups"]))
                assert bool(granted & routes[spec["route"]]) is admitted, (user, spec["route"])


def test_function_descriptions_stay_within_lambdas_limit_with_many_routes():
    run = run_program(PROJECT, generated_config(120, 3))
    (served,) = [f for f in run.of_type(FUNCTION) if f.name == "hello"]
    assert served.inputs["description"].startswith("Serves GET /res000, POST /res000, ")
    assert all(len(f.inputs.get("description", "")) <= 256 for f in run.of_type(FUNCTION))


def test_each_function_ships_its_own_folder_and_nothing_else(case):
    """Two route functions are two deployments: each archive holds its own handler only."""
    config, run = case
    for spec in config[f"{NS}:routes"]:
        (function,) = [f for f in run.of_type(FUNCTION)
                       if f.name == spec["function"].replace("_", "-")]
        assets = function.inputs["code"].assets
        assert {name: Path(a.path) for name, a in assets.items()} == {
            "handler.py": ROOT / "functions" / spec["function"] / "handler.py"}
