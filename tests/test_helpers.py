"""Pure helpers of the components, without Pulumi."""

from __future__ import annotations

import json

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from jwt_scoped.cognito_urls import default_domain_base, hosted_ui_url, issuer_url, region_of_pool
from jwt_scoped.cors import cors_methods, preflight_problems, preflight_route_keys
from jwt_scoped.http_api import route_resource_name, route_url
from jwt_scoped.python_function import assume_role_policy, log_writer_policy
from jwt_scoped.route_keys import (
    RouteMatch,
    answering_route,
    describe_routes,
    parse_route_key,
    route_key_problem,
    sample_requests,
    select_route,
)
from jwt_scoped.rules import domain_prefix_problem
from jwt_scoped.scope_format import scope_name


def test_scope_name_is_group_dash_client_id():
    assert scope_name("admin", "4d5e6f") == "admin-4d5e6f"


@pytest.mark.parametrize("key", ["$default", "GET /", "GET /AdminUser", "ANY /{proxy+}",
                                 "DELETE /items/{id}", "POST /a/{b}/c/{rest+}", "PUT /v1.2/x-y_z"])
def test_valid_route_keys(key):
    assert route_key_problem(key) is None


@pytest.mark.parametrize("key", ["", "GET", "get /x", "GET x", "GET /x/", "GET //x",
                                 "GET /{a}/{a}", "GET /{p+}/x", "GET /a b", "GET /{1x}", 7])
def test_invalid_route_keys(key):
    assert route_key_problem(key)
    with pytest.raises(ValueError):
        parse_route_key(key)


def test_sample_requests_for_routes():
    assert parse_route_key("POST /items/{id}/tags/{tag}").sample_path("s") == "/items/s/tags/s"
    assert parse_route_key("ANY /x/{proxy+}").sample_path() == "/x/sample"
    assert parse_route_key("ANY /x").sample_method() == "GET"
    assert parse_route_key("$default").sample_path() == "/"
    assert parse_route_key("DELETE /x").sample_method() == "DELETE"


def test_issuer_url_adds_the_scheme_the_pool_endpoint_lacks():
    endpoint = "cognito-idp.eu-west-2.amazonaws.com/eu-west-2_AbC123"
    assert issuer_url(endpoint) == f"https://{endpoint}"
    assert issuer_url(f"https://{endpoint}") == f"https://{endpoint}"


def test_region_comes_from_the_pool_id():
    assert region_of_pool("ap-southeast-2_xYz") == "ap-southeast-2"
    with pytest.raises(ValueError, match="not '<region>_<id>'"):
        region_of_pool("no-underscore")


def test_hosted_ui_url_is_the_code_flow_authorize_endpoint():
    url = hosted_ui_url("acme-login", "us-west-2_Ab", "client123", "https://app.example/cb")
    assert url == ("https://acme-login.auth.us-west-2.amazoncognito.com/oauth2/authorize?"
                   "client_id=client123&response_type=code&scope=phone+email+openid+profile&"
                   "redirect_uri=https%3A%2F%2Fapp.example%2Fcb")


@pytest.mark.parametrize("project, stack", [("jwt-scoped-api", "dev"), ("My_AWS", "Cognito-Prod"),
                                            ("amazon", "aws"), ("x" * 80, "y"), ("--", "__")])
def test_default_domain_base_is_always_a_valid_prefix(project, stack):
    base = default_domain_base(project, stack)
    assert domain_prefix_problem(f"{base}-abcd1234") is None


def test_route_urls_join_the_stage_url_and_the_path():
    assert route_url("https://a.execute-api.x.amazonaws.com/Test", "GET /AdminUser") == (
        "https://a.execute-api.x.amazonaws.com/Test/AdminUser")
    assert route_url("https://a.execute-api.x.amazonaws.com/", "GET /AdminUser") == (
        "https://a.execute-api.x.amazonaws.com/AdminUser")
    assert route_url("https://a.execute-api.x.amazonaws.com/", "$default") == (
        "https://a.execute-api.x.amazonaws.com/")


def test_route_resource_names_are_distinct_and_space_free():
    keys = ["GET /a-b", "GET /a/b", "GET /ab", "GETX /", "$default", "ANY /a/b", "GET /a/{b}"]
    names = [route_resource_name("api", k) for k in keys]
    assert len(set(names)) == len(names)
    assert not any(" " in n for n in names)
    assert all(n.startswith("api-") for n in names)


valid_route_keys = st.builds(
    lambda method, segments: f"{method} /" + "/".join(segments),
    st.sampled_from(["GET", "ANY", "POST", "OPTIONS"]),
    st.lists(st.sampled_from(["a", "b", "a-b", "{id}", "x.y"]), max_size=3),
).filter(lambda key: route_key_problem(key) is None) | st.just("$default")


@given(st.lists(valid_route_keys, unique=True, max_size=8))
def test_property_route_resource_names_are_one_per_route_key(keys):
    names = [route_resource_name("api", k) for k in keys]
    assert len(set(names)) == len(names)


def test_cors_methods():
    assert cors_methods(["GET /a", "POST /a", "GET /b"]) == ["GET", "POST"]
    assert cors_methods(["GET /a", "ANY /b"]) == ["*"]
    assert cors_methods(["$default"]) == ["*"]


def test_policies_name_one_service_and_one_log_group():
    trust = json.loads(assume_role_policy())
    assert trust["Statement"] == [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                   "Principal": {"Service": "lambda.amazonaws.com"}}]
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/x-123"
    writer = json.loads(log_writer_policy(arn))
    assert writer["Statement"][0]["Resource"] == f"{arn}:log-stream:*"
    assert "logs:CreateLogGroup" not in writer["Statement"][0]["Action"]


ROUTES = ["GET /items/{id}", "GET /items/sample", "ANY /{proxy+}", "$default", "GET /",
          "POST /items/{id}/tags/{rest+}"]


@pytest.mark.parametrize("method, path, expected", [
    ("GET", "/items/sample", "GET /items/sample"),   # a literal beats a {param}
    ("GET", "/items/42", "GET /items/{id}"),
    ("PUT", "/items/42", "ANY /{proxy+}"),           # no PUT route: the greedy ANY takes it
    ("GET", "/", "GET /"),
    ("DELETE", "/", "$default"),                     # nothing else matches
    ("POST", "/items/1/tags/a/b", "POST /items/{id}/tags/{rest+}"),
    ("POST", "/items/1/tags", "ANY /{proxy+}"),      # a greedy variable needs a segment
])
def test_answering_route_picks_the_most_specific_match(method, path, expected):
    assert answering_route(method, path, ROUTES) == expected


def test_no_route_answers_outside_every_route():
    assert answering_route("GET", "/other", ["GET /items/{id}"]) is None
    assert answering_route("POST", "/items/1", ["GET /items/{id}"]) is None


# API Gateway developer guide, "Create routes for HTTP APIs", "Routing API requests": its example
# routes and the route it selects for each example request.
DOCUMENTED_ROUTES = ["GET /pets/dog/{id}", "GET /pets/{proxy+}", "ANY /{proxy+}", "$default"]


@pytest.mark.parametrize("method, path, expected", [
    ("GET", "/pets/dog/1", "GET /pets/dog/{id}"),  # "The request fully matches this route."
    ("GET", "/pets/cat/1", "GET /pets/{proxy+}"),  # no full match: the GET greedy route
    ("POST", "/test/5", "ANY /{proxy+}"),          # ANY takes undefined methods; greedy > $default
])
def test_route_selection_follows_the_documented_examples(method, path, expected):
    assert answering_route(method, path, DOCUMENTED_ROUTES) == expected


def test_a_full_match_with_path_variables_beats_a_greedy_match():
    routes = ["GET /{type}/dog/1", "GET /pets/{proxy+}"]
    assert answering_route("GET", "/pets/dog/1", routes) == "GET /{type}/dog/1"
    assert answering_route("GET", "/pets/dog/2", routes) == "GET /pets/{proxy+}"


def test_a_longer_greedy_prefix_wins_and_a_named_method_beats_any_on_the_same_path():
    routes = ["ANY /{proxy+}", "ANY /admin/{proxy+}", "OPTIONS /admin/{proxy+}", "GET /{x}/{proxy+}"]
    assert answering_route("GET", "/admin/a/b", routes) == "ANY /admin/{proxy+}"
    assert answering_route("OPTIONS", "/admin/a", routes) == "OPTIONS /admin/{proxy+}"
    assert answering_route("GET", "/other/a", routes) == "GET /{x}/{proxy+}"
    assert answering_route("PUT", "/other/a", routes) == "ANY /{proxy+}"


def test_selection_yields_the_path_parameters_the_integration_receives():
    assert select_route("POST", "/items/7/tags/a/b", ROUTES) == RouteMatch(
        "POST /items/{id}/tags/{rest+}", {"id": "7", "rest": "a/b"})
    assert select_route("GET", "/items/42", ROUTES).path_parameters == {"id": "42"}
    assert select_route("DELETE", "/", ROUTES) == RouteMatch("$default", {})
    assert select_route("GET", "/nothing", ["GET /x"]) is None


def test_sample_requests_reach_their_own_route():
    samples = sample_requests(ROUTES)
    for key, (method, path, own) in samples.items():
        assert own, key
        assert answering_route(method, path, ROUTES) == key
    assert samples["GET /items/{id}"][1] != "/items/sample"  # taken by the literal route
    assert samples["$default"][:2] != ("GET", "/")


def test_a_shadowed_route_is_flagged_not_hidden():
    keys = ["ANY /x", *(f"{m} /x" for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"))]
    method, path, own = sample_requests(keys)["ANY /x"]
    assert own is False
    assert answering_route(method, path, keys) != "ANY /x"


def test_function_descriptions_fit_lambdas_limit():
    assert describe_routes(["GET /a", "POST /b"]) == "Serves GET /a, POST /b"
    many = [f"GET /resource-{i:03d}/{{id}}" for i in range(150)]
    text = describe_routes(many)
    assert len(text) <= 256
    assert text.startswith("Serves GET /resource-000/{id}, ")
    shown = text.count("GET /")
    assert text.endswith(f" and {150 - shown} more routes")


route_sets = st.lists(st.tuples(
    st.sampled_from(["GET", "POST", "ANY", "OPTIONS"]),
    st.lists(st.sampled_from(["a", "b", "{id}"]), max_size=2),
    st.booleans(), st.booleans(), st.booleans()), min_size=1, max_size=6)


def _route_keys(drawn) -> dict[str, bool]:
    """key -> demands a token, from (method, segments, greedy, default, protected) tuples."""
    keys = {}
    for method, segments, greedy, default, protected in drawn:
        if default:
            keys.setdefault("$default", protected)
            continue
        path = "/" + "/".join(segments + (["{proxy+}"] if greedy else []))
        key = f"{method} {path}"
        if route_key_problem(key) is None:
            keys.setdefault(key, protected)
    return keys


@settings(max_examples=300, deadline=None)
@given(route_sets, st.lists(st.sampled_from(["a", "b", "c", "1"]), max_size=3))
def test_property_no_preflight_reaches_a_route_that_demands_a_token(drawn, request_segments):
    protected = _route_keys(drawn)
    assume(protected and not preflight_problems(protected))
    added = preflight_route_keys(protected)
    every = {**protected, **dict.fromkeys(added, False)}
    answering = answering_route("OPTIONS", "/" + "/".join(request_segments), list(every))
    assert answering is None or every[answering] is False
