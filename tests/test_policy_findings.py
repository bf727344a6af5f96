"""The pack's stack-level rules on hand-built stacks: how resources are related (by property
dependency while values are unknown, by value once known), and routes of every kind a stack may
hold, those the components never build among them (another API's authorizer, a preflight route
that shares a token route's handler, authorization types other than NONE and JWT)."""

from __future__ import annotations

from dataclasses import replace

from jwt_scoped import aws_types as t
from policy.api_checks import access_log_location_findings, stage_findings
from policy.cognito_checks import trigger_findings
from policy.lambda_checks import SUPPORTED_PYTHON_RUNTIMES, function_findings, permission_findings
from policy.machine_checks import machine_scope_findings, secret_exposure_findings
from policy.route_checks import (
    RouteExceptions,
    admits_nobody_findings,
    duplicate_key_findings,
    http_apis,
    preflight_findings,
    route_authorization_findings,
)
from policy.values import UNKNOWN, Node, refers_to

STACK_NODE = Node("urn:stack", t.STACK, "proj-dev", {})


def node(typ: str, label: str, deps: dict | None = None, /, **props) -> Node:
    """A resource named ``label``; ``deps``: property -> the nodes its value came from."""
    prop_deps = {k: frozenset(n.urn for n in v) for k, v in (deps or {}).items()}
    return Node(f"urn:{typ}::{label}", typ, label, props,
                frozenset(u for v in prop_deps.values() for u in v), prop_deps)


def http_api(name="api", cors=None, **props) -> Node:
    return node(t.API, name, id=f"{name}-id", protocolType="HTTP", corsConfiguration=cors,
                executionArn=f"arn:aws:execute-api:us-east-1:123456789012:{name}-id", **props)


def authorizer(api: Node, name="jwt", **props) -> Node:
    return node(t.AUTHORIZER, name, {"apiId": [api]}, apiId=UNKNOWN, id=f"{name}-id",
                authorizerType="JWT", **props)


def scoped(api: Node, auth: Node, key: str, scopes=("admin-client"), name=None) -> Node:
    scopes = [scopes] if isinstance(scopes, str) else list(scopes)
    return node(t.ROUTE, name or key, {"apiId": [api], "authorizerId": [auth]}, apiId=UNKNOWN,
                routeKey=key, authorizationType="JWT", authorizerId=UNKNOWN,
                authorizationScopes=scopes)


def public(api: Node, key: str) -> Node:
    return node(t.ROUTE, key, {"apiId": [api]}, apiId=UNKNOWN, routeKey=key,
                authorizationType="NONE")


def signed_in(api: Node, auth: Node, key: str) -> Node:
    return node(t.ROUTE, key, {"apiId": [api], "authorizerId": [auth]}, apiId=UNKNOWN,
                routeKey=key, authorizationType="JWT", authorizerId=UNKNOWN)


def names(found) -> set[str]:
    """The names of the resources the findings name."""
    return {f.urn.rsplit("::", 1)[-1] for f in found}


# --- relating resources --------------------------------------------------------------------------

def test_a_reference_is_found_by_dependency_while_unknown_and_by_value_once_known():
    api = http_api()
    by_dependency = node(t.ROUTE, "r1", {"apiId": [api]}, apiId=UNKNOWN)
    by_value = node(t.ROUTE, "r2", apiId="api-id")
    elsewhere = node(t.ROUTE, "r3", apiId="other-id")
    assert refers_to(by_dependency, "apiId", api) and refers_to(by_value, "apiId", api)
    assert not refers_to(elsewhere, "apiId", api)


def test_routes_are_grouped_under_their_api_and_websocket_apis_are_left_out():
    api, other = http_api("a"), http_api("b")
    ws = node(t.API, "ws", id="ws-id", protocolType="WEBSOCKET")
    routes = [node(t.ROUTE, "r1", apiId="a-id", routeKey="GET /x"),
              node(t.ROUTE, "r2", {"apiId": [other]}, apiId=UNKNOWN, routeKey="GET /y"),
              node(t.ROUTE, "r3", apiId="ws-id", routeKey="$connect"),
              node(t.ROUTE, "r4", apiId="elsewhere-id", routeKey="GET /z")]
    grouped = {(h.api.name if h.api else None): [r.name for r in h.routes]
               for h in http_apis([api, other, ws, *routes])}
    assert grouped == {"a": ["r1"], "b": ["r2"], None: ["r4"]}


# --- route authorization -------------------------------------------------------------------------

def test_the_three_route_modes_pass_with_matching_exceptions():
    api = http_api()
    auth = authorizer(api)
    nodes = [STACK_NODE, api, auth, scoped(api, auth, "GET /AdminUser"),
             public(api, "GET /health"), signed_in(api, auth, "GET /me")]
    exceptions = RouteExceptions(public=frozenset({"GET /health"}), signed_in=frozenset({"GET /me"}))
    assert route_authorization_findings(nodes, exceptions) == []


def test_a_public_route_as_a_resource_state_may_show_it_is_still_public():
    """A state may show unset strings and lists as "" and []: still no authorizer, no scopes."""
    api = http_api()
    auth = authorizer(api)
    route = node(t.ROUTE, "GET /health", {"apiId": [api]}, apiId=UNKNOWN, routeKey="GET /health",
                 authorizationType="NONE", authorizerId="", authorizationScopes=[])
    nodes = [STACK_NODE, api, auth, route]
    assert route_authorization_findings(
        nodes, RouteExceptions(public=frozenset({"GET /health"}))) == []


def test_public_and_signed_in_routes_need_their_exception():
    api = http_api()
    auth = authorizer(api)
    nodes = [STACK_NODE, api, auth, public(api, "GET /health"), signed_in(api, auth, "GET /me")]
    found = route_authorization_findings(nodes, RouteExceptions())
    assert names(found) == {"GET /health", "GET /me"}


def test_an_exception_the_stack_does_not_match_is_reported_against_the_stack():
    api = http_api()
    auth = authorizer(api)
    nodes = [STACK_NODE, api, auth, scoped(api, auth, "GET /AdminUser")]
    found = route_authorization_findings(
        nodes, RouteExceptions(public=frozenset({"GET /AdminUser", "GET /health"})))
    assert [f.urn for f in found] == ["urn:stack", "urn:stack"]
    assert "scoped to groups, not public" in found[0].message
    assert "no route of this stack has that key" in found[1].message


def test_an_exception_waits_for_scopes_a_preview_does_not_know_yet():
    """In a preview a route's scopes may be unknown (they hold the app client ID): whether it is
    signed-in or scoped to groups is told once they are known."""
    api = http_api()
    auth = authorizer(api)
    unknown = node(t.ROUTE, "GET /me", {"apiId": [api], "authorizerId": [auth]}, apiId=UNKNOWN,
                   routeKey="GET /me", authorizationType="JWT", authorizerId=UNKNOWN,
                   authorizationScopes=UNKNOWN)
    listed = RouteExceptions(signed_in=frozenset({"GET /me"}))
    assert route_authorization_findings([STACK_NODE, api, auth, unknown], listed) == []
    known = scoped(api, auth, "GET /me", ["s"])
    (finding,) = route_authorization_findings([STACK_NODE, api, auth, known], listed)
    assert finding.urn == "urn:stack" and "scoped to groups, not open to any signed-in user" in (
        finding.message)


def test_routes_of_an_api_without_jwt_authorizer_are_not_this_rules_business():
    api = http_api()
    nodes = [STACK_NODE, api, public(api, "GET /open")]
    assert route_authorization_findings(nodes, RouteExceptions()) == []


def test_a_route_using_another_apis_authorizer_is_refused():
    api, other = http_api("a"), http_api("b")
    auth, foreign = authorizer(api, "jwt-a"), authorizer(other, "jwt-b")
    nodes = [STACK_NODE, api, other, auth, foreign, scoped(api, foreign, "GET /x")]
    (finding,) = route_authorization_findings(nodes, RouteExceptions())
    assert "not a JWT authorizer of its own API" in finding.message


def test_a_cors_preflight_route_passes_on_an_api_with_cors_only():
    with_cors = http_api("a", cors={"allowOrigins": ["https://app.example.com"]})
    without = http_api("b")
    auth_a, auth_b = authorizer(with_cors, "jwt-a"), authorizer(without, "jwt-b")
    nodes = [STACK_NODE, with_cors, without, auth_a, auth_b,
             scoped(with_cors, auth_a, "ANY /admin/{proxy+}", name="a-any"),
             public(with_cors, "OPTIONS /admin/{proxy+}"),
             scoped(without, auth_b, "GET /x", name="b-get"),
             node(t.ROUTE, "b-options", {"apiId": [without]}, apiId=UNKNOWN,
                  routeKey="OPTIONS /x", authorizationType="NONE")]
    found = route_authorization_findings(nodes, RouteExceptions())
    assert names(found) == {"b-options"}


def test_a_preflight_route_reaching_a_token_routes_handler_is_no_exception():
    api = http_api(cors={"allowOrigins": ["*"]})
    auth = authorizer(api)
    admin = node(t.FUNCTION, "admin", invokeArn="arn:aws:apigateway:r:lambda:path/admin")
    preflight_fn = node(t.FUNCTION, "preflight", invokeArn="arn:aws:apigateway:r:lambda:path/pf")
    admin_int = node(t.INTEGRATION, "admin-int", {"integrationUri": [admin]}, id="i1",
                     integrationUri=UNKNOWN)
    other_int = node(t.INTEGRATION, "other-int", id="i2",
                     integrationUri=admin.props["invokeArn"])   # the same function, by value
    own_int = node(t.INTEGRATION, "own-int", id="i3", integrationUri=preflight_fn.props["invokeArn"])
    token_route = node(t.ROUTE, "ANY /admin/{proxy+}", {"apiId": [api], "authorizerId": [auth]},
                       apiId=UNKNOWN, routeKey="ANY /admin/{proxy+}", authorizationType="JWT",
                       authorizerId=UNKNOWN, authorizationScopes=["s"], target="integrations/i1")

    def preflight(integration: str) -> Node:
        return node(t.ROUTE, "OPTIONS /admin/{proxy+}", {"apiId": [api]}, apiId=UNKNOWN,
                    routeKey="OPTIONS /admin/{proxy+}", authorizationType="NONE",
                    target=f"integrations/{integration}")

    base = [STACK_NODE, api, auth, admin, preflight_fn, admin_int, other_int, own_int, token_route]
    for shared in ("i1", "i2"):
        (finding,) = route_authorization_findings(base + [preflight(shared)], RouteExceptions())
        assert finding.urn.endswith("OPTIONS /admin/{proxy+}")
    assert route_authorization_findings(base + [preflight("i3")], RouteExceptions()) == []


# --- CORS preflight --------------------------------------------------------------------------------

def test_preflights_blocked_by_token_routes_are_found_per_api():
    api = http_api(cors={"allowOrigins": ["*"]})
    auth = authorizer(api)
    blocked = [STACK_NODE, api, auth, scoped(api, auth, "ANY /admin/{proxy+}"),
               scoped(api, auth, "$default")]
    assert names(preflight_findings(blocked)) == {"ANY /admin/{proxy+}", "$default"}
    # Public OPTIONS routes, as ScopedHttpApi adds with corsOrigins (jwt_scoped.cors), answer
    # them instead.
    fixed = blocked + [public(api, "OPTIONS /admin/{proxy+}"), public(api, "OPTIONS /{proxy+}"),
                       public(api, "OPTIONS /")]
    assert preflight_findings(fixed) == []
    no_cors = http_api("plain")
    auth2 = authorizer(no_cors, "jwt2")
    assert preflight_findings([no_cors, auth2, scoped(no_cors, auth2, "$default")]) == []


def test_a_route_of_no_access_mode_catches_preflights_when_it_runs_an_authorizer():
    """Routes the components never build: AWS_IAM (or JWT without an authorizer ID) runs before
    the integration, so it refuses preflights; NONE with an authorizer ID runs none."""
    api = http_api(cors={"allowOrigins": ["*"]})
    auth = authorizer(api)

    def any_route(label: str, **props) -> Node:
        return node(t.ROUTE, label, {"apiId": [api]}, apiId=UNKNOWN,
                    routeKey=f"ANY /{label}/{{proxy+}}", **props)

    routes = [any_route("iam", authorizationType="AWS_IAM"),
              any_route("jwt", authorizationType="JWT"),
              any_route("none", authorizationType="NONE", authorizerId="jwt-id")]
    assert names(preflight_findings([api, auth, *routes])) == {"iam", "jwt"}


# --- duplicate keys and scopes nobody holds ----------------------------------------------------------

def test_two_routes_with_one_key_on_one_api_are_reported():
    api, other = http_api("a"), http_api("b")
    auth = authorizer(api)
    nodes = [api, other, auth, scoped(api, auth, "GET /x", name="first"),
             scoped(api, auth, "GET /x", name="second"),
             scoped(other, auth, "GET /x", name="other-api")]
    (finding,) = duplicate_key_findings(nodes)
    assert finding.urn.endswith("::second") and "first, second" in finding.message


def pool_stack(issuer_by_value: bool, client_id=UNKNOWN):
    pool = node(t.USER_POOL, "pool", id="us-east-1_abc",
                endpoint="cognito-idp.us-east-1.amazonaws.com/us-east-1_abc")
    client = node(t.USER_POOL_CLIENT, "client", {"userPoolId": [pool]}, userPoolId=UNKNOWN,
                  id=client_id)
    groups = [node(t.USER_GROUP, f"group-{g}", {"userPoolId": [pool]}, userPoolId=UNKNOWN, name=g)
              for g in ("admin", "regular")]
    api = http_api()
    jwt = {"issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc"
           if issuer_by_value else UNKNOWN, "audiences": [client_id]}
    auth = authorizer(api, jwtConfiguration=jwt)
    if not issuer_by_value:  # the issuer and audience came from the pool and client
        auth = node(t.AUTHORIZER, "jwt", {"apiId": [api], "jwtConfiguration": [pool, client]},
                    apiId=UNKNOWN, id="jwt-id", authorizerType="JWT", jwtConfiguration=jwt)
    return [pool, client, *groups, api, auth], api, auth


def test_a_scope_no_group_grants_admits_nobody():
    nodes, api, auth = pool_stack(issuer_by_value=True, client_id="cid")
    nodes += [scoped(api, auth, "GET /AdminUser", ["admin-cid"]),
              scoped(api, auth, "GET /Audit", ["auditor-cid", "admin-cid"])]
    (finding,) = admits_nobody_findings(nodes)
    assert finding.urn.endswith("::GET /Audit")
    assert "'auditor-cid'" in finding.message and "admin, regular" in finding.message


def test_admitting_is_checked_through_dependencies_too_and_waits_for_the_client_id():
    nodes, api, auth = pool_stack(issuer_by_value=False, client_id="cid")
    nodes.append(scoped(api, auth, "GET /Audit", ["auditor-cid"]))
    assert len(admits_nobody_findings(nodes)) == 1
    preview, api, auth = pool_stack(issuer_by_value=False, client_id=UNKNOWN)
    preview.append(scoped(api, auth, "GET /Audit", [UNKNOWN]))
    assert admits_nobody_findings(preview) == []


def test_routes_of_an_issuer_outside_the_stack_are_not_judged():
    api = http_api()
    auth = authorizer(api, jwtConfiguration={"issuer": "https://auth.example.com",
                                             "audiences": ["x"]})
    assert admits_nobody_findings([api, auth, scoped(api, auth, "GET /x", ["anything"])]) == []


# --- permissions, functions, stages, triggers ------------------------------------------------------

def test_permission_source_arns_are_related_by_dependency_or_value():
    api = http_api()
    pool = node(t.USER_POOL, "pool", arn="arn:aws:cognito-idp:us-east-1:123456789012:userpool/x_y")
    bucket = node("aws:s3/bucket:Bucket", "bucket", arn="arn:aws:s3:::b")
    nodes = [api, pool, bucket,
             node(t.PERMISSION, "by-dep", {"sourceArn": [api]}, principal="apigateway.amazonaws.com",
                  sourceArn=UNKNOWN),
             node(t.PERMISSION, "by-value", principal="apigateway.amazonaws.com",
                  sourceArn=f"{api.props['executionArn']}/*/*"),
             node(t.PERMISSION, "pool-dep", {"sourceArn": [pool]}, principal="cognito-idp.amazonaws.com",
                  sourceArn=UNKNOWN),
             node(t.PERMISSION, "wrong-dep", {"sourceArn": [bucket]},
                  principal="apigateway.amazonaws.com", sourceArn=UNKNOWN),
             node(t.PERMISSION, "none", principal="cognito-idp.amazonaws.com")]
    assert names(permission_findings(nodes)) == {"wrong-dep", "none"}


def function(label, role, /, log_group=None, deps=None, **props):
    config = {"logGroup": log_group} if log_group is not None else None
    return node(t.FUNCTION, label, deps, **{"runtime": "python3.13", "role": role,
                                            "loggingConfig": config, **props})


def test_functions_need_their_own_role_and_a_log_group_with_retention():
    role = node(t.ROLE, "shared-role", arn="arn:aws:iam::123456789012:role/shared")
    own = node(t.ROLE, "own-role", arn="arn:aws:iam::123456789012:role/own")
    logs = node(t.LOG_GROUP, "logs", name="/aws/lambda/c", retentionInDays=30)
    forever = node(t.LOG_GROUP, "forever", name="/aws/lambda/d")
    nodes = [role, own, logs, forever,
             function("a", UNKNOWN, deps={"role": [role]}, log_group="/aws/lambda/c"),
             function("b", role.props["arn"], log_group="/aws/lambda/c"),
             function("c", own.props["arn"], name="c"),               # Lambda's default group
             function("d", UNKNOWN, deps={"role": [own], "loggingConfig": [forever]},
                      log_group=UNKNOWN),
             function("e", "arn:aws:iam::123456789012:role/e", log_group="/aws/lambda/nowhere",
                      runtime="python3.9")]
    found = function_findings(nodes, SUPPORTED_PYTHON_RUNTIMES)
    by_name = {}
    for f in found:
        by_name.setdefault(f.urn.rsplit("::", 1)[-1], []).append(f.message)
    assert sorted(by_name) == ["a", "b", "c", "d", "e"]
    assert all("shares role 'shared-role'" in m for m in by_name["a"] + by_name["b"])
    assert any("shares role 'own-role' with d" in m for m in by_name["c"])
    assert any("keeps logs forever" in m for m in by_name["d"])
    assert [m for m in by_name["e"] if "python3.9" in m] and [
        m for m in by_name["e"] if "does not create" in m]


def stage(api, deps=None, **props):
    settings = {"throttlingBurstLimit": 10, "throttlingRateLimit": 5}
    return node(t.STAGE, "stage", {"apiId": [api], **(deps or {})},
                **{"apiId": UNKNOWN, "name": "Test", "autoDeploy": True,
                   "defaultRouteSettings": settings, **props})


def test_stage_logs_are_followed_to_the_log_group_by_dependency_or_arn():
    api = http_api()
    group = node(t.LOG_GROUP, "access", name="/aws/vendedlogs/apigateway/api-1", retentionInDays=30,
                 arn="arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/apigateway/api-1")
    by_dep = stage(api, {"accessLogSettings": [group]},
                   accessLogSettings={"destinationArn": UNKNOWN, "format": "{}"})
    by_arn = stage(api, accessLogSettings={"destinationArn": group.props["arn"] + ":*",
                                           "format": "{}"})
    for s in (by_dep, by_arn):
        assert stage_findings([api, group, s]) == []
        assert access_log_location_findings([api, group, s]) == []


def test_a_stage_without_auto_deploy_passes_with_a_deployment_of_its_api():
    api = http_api()
    group = node(t.LOG_GROUP, "access", name="/aws/vendedlogs/x", retentionInDays=30)
    manual = stage(api, {"accessLogSettings": [group]},
                   accessLogSettings={"destinationArn": UNKNOWN}, autoDeploy=False)
    (finding,) = stage_findings([api, group, manual])
    assert "never serves" in finding.message
    deployment = node(t.DEPLOYMENT, "deploy", {"apiId": [api]}, apiId=UNKNOWN)
    assert stage_findings([api, group, manual, deployment]) == []


def test_access_logs_to_a_group_outside_the_stack_are_judged_by_its_arn():
    api = http_api()
    outside = stage(api, accessLogSettings={
        "destinationArn": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/x"})
    (location,) = access_log_location_findings([api, outside])
    assert "'/aws/apigateway/x'" in location.message
    (settings,) = stage_findings([api, outside])
    assert "retention cannot be checked" in settings.message


def trigger_stack(with_permission=True, permission_source=None):
    fn = node(t.FUNCTION, "trigger", arn="arn:aws:lambda:us-east-1:123456789012:function:trig-1",
              name="trig-1")
    pool = node(t.USER_POOL, "pool", {"lambdaConfig": [fn]}, arn=UNKNOWN,
                lambdaConfig={"preTokenGenerationConfig": {"lambdaArn": UNKNOWN,
                                                           "lambdaVersion": "V1_0"}})
    nodes = [fn, pool]
    if with_permission:
        nodes.append(node(t.PERMISSION, "invoke",
                          {"function": [fn], "sourceArn": [permission_source or pool]},
                          function=UNKNOWN, principal="cognito-idp.amazonaws.com",
                          action="lambda:InvokeFunction", sourceArn=UNKNOWN))
    return nodes


def test_cognito_must_be_allowed_to_invoke_the_trigger_for_this_pool():
    assert trigger_findings(trigger_stack()) == []
    (missing,) = trigger_findings(trigger_stack(with_permission=False))
    assert missing.urn.endswith("::pool") and "trigger" in missing.message
    other_pool = node(t.USER_POOL, "other", lambdaConfig={})
    assert len(trigger_findings(trigger_stack(permission_source=other_pool))) == 1


def test_a_trigger_named_by_arn_is_matched_to_a_permission_by_name():
    fn_arn = "arn:aws:lambda:us-east-1:123456789012:function:shared-trigger"
    pool = node(t.USER_POOL, "pool", arn="arn:aws:cognito-idp:us-east-1:123456789012:userpool/x_y",
                lambdaConfig={"preTokenGeneration": fn_arn})
    permission = node(t.PERMISSION, "invoke", function="shared-trigger",
                      principal="cognito-idp.amazonaws.com", action="lambda:InvokeFunction",
                      sourceArn=pool.props["arn"])
    assert trigger_findings([pool, permission]) == []
    (finding,) = trigger_findings([node(t.USER_POOL, "bare", lambdaConfig={})])
    assert "no Pre Token Generation trigger" in finding.message


# --- machines as callers -------------------------------------------------------------------------

SECRET = "0wd9nxy6tldbaihri68fas3ihb2jw7p1umzldjgvgzo8upi3h6h"


def machine_client(label="partner", pool=None, **props) -> Node:
    deps = {"userPoolId": [pool]} if pool is not None else None
    return node(t.USER_POOL_CLIENT, label, deps, **{
        "name": label, "id": f"{label}-id", "userPoolId": UNKNOWN if pool else "pool-id",
        "generateSecret": True, "allowedOauthFlows": ["client_credentials"],
        "allowedOauthScopes": ["orders/read"], "clientSecret": SECRET, **props})


def test_a_client_secret_is_sought_in_the_stacks_outputs_and_in_aws_resources():
    client = machine_client()
    outputs = Node("urn:stack", t.STACK, "proj-dev", {
        "machine_client_secrets": {"partner": SECRET}, "leak": f"secret={SECRET}"})
    env = node(t.FUNCTION, "fn", environment={"variables": {"S": SECRET}})
    component = node("jwt-scoped:index:ScopedIdentityPool", "identity",
                     machine_client_secrets={"partner": SECRET})
    other = node("random:index/randomString:RandomString", "r", result=SECRET)
    nodes = [outputs, client, env, component, other]
    found = secret_exposure_findings(nodes, ["machine_client_secrets"], [])
    assert sorted(names(found)) == ["fn", "urn:stack"]
    assert any("'leak'" in f.message for f in found)
    # The client's own state holds its secret; components and other providers' resources are
    # not the cloud's keeping (a component's outputs stay in the state).
    assert secret_exposure_findings([outputs, client], ["machine_client_secrets", "leak"], []) == []


def test_an_unknown_secret_is_judged_once_known():
    client = machine_client(clientSecret=UNKNOWN)
    env = node(t.FUNCTION, "fn", environment={"variables": {"S": UNKNOWN}})
    assert secret_exposure_findings([STACK_NODE, client, env], [], []) == []
    unset = machine_client(clientSecret="", generateSecret=False)
    assert secret_exposure_findings([STACK_NODE, unset, env], [], []) == []


def machine_stack(*, audiences_known: bool, scopes=("orders/read",), servers=None,
                  allowed=("orders/read",), other_pool_allows=()):
    """A pool with a resource server, a machine client, a client of another pool, and an API
    whose JWT authorizer admits the first client; one route demands ``scopes``."""
    pool = node(t.USER_POOL, "pool", id="pool-id", endpoint="cognito-idp.r.amazonaws.com/pool-id")
    other_pool = node(t.USER_POOL, "other-pool", id="other-id")
    server = node(t.RESOURCE_SERVER, "orders", {"userPoolId": [pool]}, userPoolId=UNKNOWN,
                  identifier="orders", scopes=servers if servers is not None else [
                      {"scopeName": "read", "scopeDescription": "r"},
                      {"scopeName": "write", "scopeDescription": "w"}])
    client = machine_client(pool=pool, allowedOauthScopes=list(allowed))
    elsewhere = machine_client("elsewhere", pool=other_pool,
                               allowedOauthScopes=list(other_pool_allows))
    api = http_api()
    jwt = {"issuer": UNKNOWN, "audiences": ["partner-id"] if audiences_known else UNKNOWN}
    auth = node(t.AUTHORIZER, "jwt", {"apiId": [api], "jwtConfiguration": [pool, client]},
                apiId=UNKNOWN, id="jwt-id", authorizerType="JWT", jwtConfiguration=jwt)
    route = scoped(api, auth, "GET /Orders", [] if scopes is UNKNOWN else scopes)
    if scopes is UNKNOWN:  # scopes made from a client ID a preview does not know yet
        route = replace(route, props={**route.props, "authorizationScopes": UNKNOWN})
    return [STACK_NODE, pool, other_pool, server, client, elsewhere, api, auth, route]


def test_machine_scopes_pass_by_value_and_by_dependency():
    for known in (True, False):
        assert machine_scope_findings(machine_stack(audiences_known=known)) == []


def test_a_client_of_another_pool_requests_nothing_for_this_api():
    for known in (True, False):
        (finding,) = machine_scope_findings(machine_stack(
            audiences_known=known, allowed=(), other_pool_allows=("orders/read",)))
        assert finding.urn.endswith("::GET /Orders") and "no app client" in finding.message


def test_a_machine_scope_of_no_server_of_the_pool_is_named():
    (finding,) = machine_scope_findings(machine_stack(audiences_known=True,
                                                      scopes=["orders/read", "orders/delete"]))
    assert "'orders/delete' names scope 'delete'" in finding.message


def test_machine_scopes_wait_for_what_a_preview_does_not_know():
    unknown_servers = machine_stack(audiences_known=False, scopes=["orders/delete"],
                                    servers=UNKNOWN, allowed=("orders/delete",))
    assert machine_scope_findings(unknown_servers) == []
    unknown_scopes = machine_stack(audiences_known=True, scopes=UNKNOWN)
    assert machine_scope_findings(unknown_scopes) == []


def test_routes_of_a_pool_outside_the_stack_are_not_judged():
    api = http_api()
    auth = authorizer(api, jwtConfiguration={"issuer": "https://elsewhere", "audiences": ["c"]})
    route = scoped(api, auth, "GET /Orders", ["orders/read"])
    assert machine_scope_findings([STACK_NODE, api, auth, route]) == []
