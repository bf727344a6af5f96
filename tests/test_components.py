"""The components used directly, as another Pulumi program would import them."""

from __future__ import annotations

import re
from pathlib import Path

import pulumi
import pytest

from jwt_scoped import (
    ApiRoute,
    GroupSpec,
    PythonFunction,
    PythonFunctionArgs,
    ScopedHttpApi,
    ScopedHttpApiArgs,
    ScopedIdentityPool,
    ScopedIdentityPoolArgs,
    UserSpec,
)
from jwt_scoped.http_api import _entry
from jwt_scoped.python_function import package_files
from jwt_scoped.recording import RecordingMocks, run_pulumi

from fixtures.stacks import ROOT

HANDLER_DIR = str(ROOT / "functions" / "hello")


AUTH0 = "https://example.eu.auth0.com/"
# Auth0-style literal scopes, by the names routes use.
AUTH0_SCOPES = {"read": "orders:read", "write": "orders:write", "admin": "admin",
                **{f"s{i}": f"scope-{i}" for i in range(11)}}


def route(key: str, function: str, scopes=(), access: str = "groups") -> ApiRoute:
    return ApiRoute(route_key=key, function=function, scopes=scopes, access=access)


def auth0_api(name="orders", **overrides):
    """An API in front of a non-Cognito issuer: the component needs no Cognito at all."""
    fn = PythonFunction("orders-fn", PythonFunctionArgs(source_dir=HANDLER_DIR))
    args = dict(issuer=AUTH0, audiences=["https://orders.example.com", "mobile-app"],
                functions={"orders": fn.arn}, scopes=AUTH0_SCOPES,
                routes=[route("GET /orders/{id}", "orders", ["read"]),
                        route("POST /orders", "orders", ["write", "admin"]),
                        route("$default", "orders", ["admin"])])
    args.update(overrides)
    return ScopedHttpApi(name, ScopedHttpApiArgs(**args))


def test_http_api_serves_any_oidc_issuer_with_literal_scopes():
    run = run_pulumi(lambda: auth0_api().route_urls)
    authorizer = run.one("aws:apigatewayv2/authorizer:Authorizer")
    assert authorizer.inputs["jwtConfiguration"] == {
        "issuer": AUTH0, "audiences": ["https://orders.example.com", "mobile-app"]}
    scopes = {r.inputs["routeKey"]: r.inputs["authorizationScopes"]
              for r in run.of_type("aws:apigatewayv2/route:Route")}
    assert scopes == {"GET /orders/{id}": ["orders:read"],
                      "POST /orders": ["orders:write", "admin"], "$default": ["admin"]}
    assert len(run.of_type("aws:apigatewayv2/integration:Integration")) == 1
    assert not any(r.type.startswith("aws:cognito") for r in run.registered)
    base = run.one("aws:apigatewayv2/api:Api").outputs["apiEndpoint"]
    assert run.result == {"GET /orders/{id}": f"{base}/orders/{{id}}",
                          "POST /orders": f"{base}/orders", "$default": f"{base}/"}


def test_http_api_children_are_named_after_and_parented_to_the_component():
    run = run_pulumi(lambda: auth0_api(name="shop") and None)
    children = [name for name, parent in run.parents.items() if parent == "shop"]
    assert len(children) == 9  # api, authorizer, integration, permission, 3 routes, logs, stage
    assert all(name.startswith("shop-") for name in children)
    assert {r.name for r in run.registered if r.type.startswith("aws:apigatewayv2")} <= set(children)
    assert {r.name for r in run.of_type("aws:apigatewayv2/route:Route")} == {
        "shop-GET/orders/{id}", "shop-POST/orders", "shop-$default"}


@pytest.mark.parametrize("overrides, message", [
    ({"routes": [route("GET /a", "orders", ["s0"]), route("GET /a", "orders", ["s0"])]},
     "routes: duplicate route 'GET /a' (2 times)"),
    ({"routes": [route("GET /a", "orders", [f"s{i}" for i in range(11)])]},
     "routes[0].scopes: expected 0 to 10 entries, got 11"),
    ({"routes": [route("GET /a", "orders", ["s0"], access="public")]},
     "routes[0].scopes: a route with access 'public' admits everyone"),
    ({"routes": [route("GET /a", "orders", ["s0"], access="signed-in")]},
     "routes[0].scopes: a route with access 'signed-in' admits every signed-in caller"),
    ({"routes": [route("GET /a", "orders")]},
     "routes[0].scopes: names no scope (group) that may call it"),
    ({"routes": [route("GET /a", "orders", ["s0"], access="private")]},
     "routes[0].access: unknown access 'private'; expected one of public, signed-in, groups"),
    ({"routes": [route("OPTIONS /a", "orders", access="signed-in")],
      "cors_origins": ["https://app.example.com"]},
     "routes[0]: OPTIONS /a demands a token, so every CORS preflight to its path would get 401"),
    ({"routes": [route("GET /a", "nope", ["s0"])]}, "routes[0].function: unknown function 'nope'"),
    ({"routes": [route("GET /a", "orders", ["raed"])]},
     "routes[0].scopes: unknown scope 'raed' (did you mean 'read'?); scopes are: admin, read,"),
    ({"routes": [route("get /a", "orders", ["s0"])]},
     "routes[0].route_key: route key 'get /a' has method 'get'"),
    ({"audiences": [f"a{i}" for i in range(51)]}, "audiences: expected 1 to 50 entries, got 51"),
    ({"audiences": []}, "audiences: expected 1 to 50 entries, got 0"),
    ({"issuer": "http://example.com/"}, "issuer: issuer 'http://example.com/' is not an https URL"),
    ({"stage_name": "a b"}, "stage_name: stage name 'a b'"),
    ({"log_retention_days": 2}, "log_retention_days: log retention 2"),
    ({"cors_origins": ["example.com"]}, "cors_origins[0]: CORS origin 'example.com'"),
])
def test_http_api_refuses_bad_args_before_registering_anything(overrides, message):
    mocks = RecordingMocks()

    with pytest.raises(ValueError, match="ScopedHttpApi 'orders': .*" + re.escape(message)):
        run_pulumi(lambda: auth0_api(**overrides), mocks=mocks)
    assert not [r for r in mocks.registered if r.type.startswith("aws:apigatewayv2")]


def test_scopes_computed_by_another_resource_are_looked_up_at_deploy_time():
    """ScopedIdentityPool's ``scopes`` output is one Output: the API takes it as it is."""
    def body():
        pool = ScopedIdentityPool("idp", pool_args())
        return auth0_api(scopes=pool.scopes, routes=[
            route("GET /a", "orders", ["admin"]), route("GET /b", "orders", ["regular", "admin"])
        ]).route_urls

    run = run_pulumi(body)
    client_id = run.one("aws:cognito/userPoolClient:UserPoolClient").id
    assert {r.inputs["routeKey"]: r.inputs["authorizationScopes"]
            for r in run.of_type("aws:apigatewayv2/route:Route")} == {
        "GET /a": [f"admin-{client_id}"], "GET /b": [f"regular-{client_id}", f"admin-{client_id}"]}


def test_an_unknown_name_in_a_computed_map_fails_the_deployment_naming_it():
    computed = pulumi.Output.from_input({"admin": "admin-c1", "regular": "regular-c1"})
    with pytest.raises(ValueError, match="unknown scope 'ghost'; scopes are: admin, regular"):
        run_pulumi(lambda: _entry(computed, "ghost", "scope"))
    assert run_pulumi(lambda: _entry(computed, "admin", "scope")).result == "admin-c1"


def test_http_api_refuses_a_function_that_serves_no_route():
    def body():
        spare = PythonFunction("spare", PythonFunctionArgs(source_dir=HANDLER_DIR))
        fn = PythonFunction("fn", PythonFunctionArgs(source_dir=HANDLER_DIR))
        return ScopedHttpApi("api", ScopedHttpApiArgs(
            issuer=AUTH0, audiences=["x"], functions={"fn": fn.arn, "spare": spare.arn},
            scopes=AUTH0_SCOPES,
            routes=[route("GET /", "fn", ["s0"])]))

    with pytest.raises(ValueError, match="functions: function 'spare' serves no route"):
        run_pulumi(body)


def pool_args(**overrides) -> ScopedIdentityPoolArgs:
    args = dict(groups=[GroupSpec(name="admin"), GroupSpec(name="regular")],
                users=[UserSpec(username="adminuser", groups=("admin", "regular"))], protect=False)
    args.update(overrides)
    return ScopedIdentityPoolArgs(**args)


def test_scope_for_gives_group_dash_client_id_from_the_client_output():
    run = run_pulumi(lambda: ScopedIdentityPool("idp", pool_args()).scope_for("regular"))
    assert run.result == f"regular-{run.one('aws:cognito/userPoolClient:UserPoolClient').id}"


def test_scope_for_an_unknown_group_is_refused():
    def body():
        pool = ScopedIdentityPool("idp", pool_args())
        with pytest.raises(ValueError, match="unknown group 'ghost'; groups are: admin, regular"):
            pool.scope_for("ghost")

    run_pulumi(body)


def test_an_explicit_domain_prefix_is_used_as_given():
    run = run_pulumi(lambda: ScopedIdentityPool("idp", pool_args(domain_prefix="acme-login")))
    assert run.one("aws:cognito/userPoolDomain:UserPoolDomain").inputs["domain"] == "acme-login"
    assert not run.of_type("random:index/randomString:RandomString")


def test_the_default_domain_prefix_is_unique_per_stack_and_valid():
    run = run_pulumi(lambda: ScopedIdentityPool("idp", pool_args()), stack="Prod_AWS")
    suffix = run.one("random:index/randomString:RandomString")
    assert suffix.inputs["upper"] is False and suffix.inputs["special"] is False
    domain = run.one("aws:cognito/userPoolDomain:UserPoolDomain").inputs["domain"]
    assert domain == f"jwt-scoped-api-prod-{suffix.outputs['result']}"


@pytest.mark.parametrize("overrides, message", [
    ({"users": [UserSpec(username="u", groups=("ghost",))]},
     "users[0].groups: unknown group 'ghost'; groups are: admin, regular"),
    ({"groups": [GroupSpec(name="a b")]}, "groups[0].name: group name 'a b' is invalid"),
    ({"groups": [GroupSpec(name="a", precedence=-1)]}, "groups[0].precedence: precedence -1 is out"),
    ({"groups": [GroupSpec(name="a", description="x" * 2049)]},
     "groups[0].description: description must be a string of at most 2048 characters"),
    ({"groups": []}, "groups: expected at least 1 entry, got 0"),
    ({"token_use": "both"}, "token_use: unknown token use 'both'"),
    ({"callback_urls": ["http://example.com"]}, "callback_urls[0]: callback URL"),
    ({"callback_urls": [f"https://a.example.com/{i}" for i in range(101)]},
     "callback_urls: expected 1 to 100 entries, got 101"),
    ({"domain_prefix": "aws-login"}, "domain_prefix: domain prefix 'aws-login' contains the reserved"),
    ({"id_token_validity_minutes": 2000}, "id_token_validity_minutes: ID token validity 2000 is out"),
])
def test_identity_pool_refuses_bad_args_before_registering_anything(overrides, message):
    mocks = RecordingMocks()
    with pytest.raises(ValueError, match="ScopedIdentityPool 'idp': .*" + re.escape(message)):
        run_pulumi(lambda: ScopedIdentityPool("idp", pool_args(**overrides)), mocks=mocks)
    assert mocks.registered == []


def test_function_package_holds_the_folders_python_files_only(tmp_path: Path):
    (tmp_path / "handler.py").write_text("def handler(e, c): return e\n")
    (tmp_path / "helpers.py").write_text("X = 1\n")
    (tmp_path / "notes.txt").write_text("not shipped\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\0")
    extra = tmp_path / "shared.py"
    extra.write_text("Y = 2\n")
    files = package_files(str(tmp_path), {"lib.py": str(extra)})
    assert files == {"handler.py": str(tmp_path / "handler.py"),
                     "helpers.py": str(tmp_path / "helpers.py"),
                     "lib.py": str(extra), "shared.py": str(extra)}
    with pytest.raises(ValueError, match="would overwrite"):
        package_files(str(tmp_path), {"helpers.py": str(extra)})
    with pytest.raises(ValueError, match="has no handler.py"):
        package_files(str(tmp_path / "__pycache__"), {})


def test_routes_are_public_signed_in_or_scoped():
    run = run_pulumi(lambda: auth0_api(routes=[
        route("GET /health", "orders", access="public"),
        route("GET /me", "orders", access="signed-in"),
        route("GET /orders/{id}", "orders", ["read"])]) and None)
    authorizer = run.one("aws:apigatewayv2/authorizer:Authorizer")
    routes = {r.inputs["routeKey"]: r.inputs for r in run.of_type("aws:apigatewayv2/route:Route")}
    assert routes["GET /health"]["authorizationType"] == "NONE"
    assert "authorizerId" not in routes["GET /health"]
    assert "authorizationScopes" not in routes["GET /health"]
    assert (routes["GET /me"]["authorizationType"], routes["GET /me"]["authorizerId"]) == (
        "JWT", authorizer.id)
    assert "authorizationScopes" not in routes["GET /me"]  # any valid token
    assert routes["GET /orders/{id}"]["authorizationScopes"] == ["orders:read"]


def test_cors_adds_public_options_routes_where_a_protected_route_would_catch_preflights():
    run = run_pulumi(lambda: auth0_api(
        cors_origins=["https://app.example.com"],
        routes=[route("GET /orders/{id}", "orders", ["read"]),
                route("ANY /admin/{proxy+}", "orders", ["admin"]),
                route("ANY /open", "orders", access="public"),
                route("$default", "orders", access="signed-in")]) and None)
    routes = {r.inputs["routeKey"]: r.inputs for r in run.of_type("aws:apigatewayv2/route:Route")}
    preflights = {k for k, r in routes.items() if k.startswith("OPTIONS ")}
    assert preflights == {"OPTIONS /admin/{proxy+}", "OPTIONS /{proxy+}", "OPTIONS /"}
    (function,) = [f for f in run.of_type("aws:lambda/function:Function")
                   if f.name == "orders-cors-preflight"]
    assert sorted(function.inputs["code"].assets) == ["handler.py"]
    integrations = {i.id: i for i in run.of_type("aws:apigatewayv2/integration:Integration")}
    for key in preflights:
        assert routes[key]["authorizationType"] == "NONE"
        target = integrations[routes[key]["target"].removeprefix("integrations/")]
        assert target.inputs["integrationUri"] == function.outputs["arn"]
    (permission,) = [p.inputs for p in run.of_type("aws:lambda/permission:Permission")
                     if p.inputs["function"] == function.outputs["arn"]]
    assert permission["principal"] == "apigateway.amazonaws.com"


def test_without_a_route_that_catches_preflights_api_gateway_answers_them_itself():
    run = run_pulumi(lambda: auth0_api(cors_origins=["https://app.example.com"], routes=[
        route("GET /orders/{id}", "orders", ["read"])]) and None)
    assert [r.inputs["routeKey"] for r in run.of_type("aws:apigatewayv2/route:Route")] == [
        "GET /orders/{id}"]
    assert not [f for f in run.of_type("aws:lambda/function:Function") if "preflight" in f.name]


def test_access_logs_go_to_a_vended_logs_group():
    run = run_pulumi(lambda: auth0_api(name="shop") and None)
    assert run.named("shop-access-logs").inputs["namePrefix"] == "/aws/vendedlogs/apigateway/shop-"
