"""A stack unlike the blog's in the sandbox: ``tokenUse: access`` (trigger V2_0), path
parameters, a greedy ``ANY`` route, the ``$default`` stage, CORS and throttling, each answered
as API Gateway answers it."""

from __future__ import annotations

import json

import jwt
import pytest

from fixtures.stacks import NS, generated_config, scaled_config
from sandbox_harness import ECHO, call, function_code, sign_in, started, statuses, verify

ORIGIN = "https://app.example.com"


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    # Both route functions echo the event they get (the statuses stay those of the real ones:
    # a 200 for every call that reaches them).
    def edit(typ, name, inputs):
        for function in ("hello",):
            inputs = function_code(function, {"handler.py": ECHO})(typ, name, inputs)
        return inputs

    with started(scaled_config(), tmp_path_factory.mktemp("logs"), edit=edit) as sandbox:
        yield sandbox


def test_the_scaled_matrix_with_access_tokens(scaled, tmp_path, capsys, monkeypatch):
    code, table, out = verify(scaled, scaled_config(), tmp_path, capsys, monkeypatch)
    assert code == 0, out
    assert json.loads(out)["token_use"] == "access"
    # 6 routes x (anonymous, 4 users, tampered, other token) and a CORS preflight per route
    assert len(table) == 6 * 7 + 6 and set(statuses(table).values()) == {200, 204, 401, 403}
    assert statuses(table)[("ANY /admin/{proxy+}", "(other-token)")] == 403  # an ID token
    assert statuses(table)[("GET /me", "(other-token)")] == 200


def test_v2_puts_the_scopes_in_the_access_token_only(scaled):
    client = scaled.outputs["app_client_id"]
    tokens = sign_in(scaled, "erin")
    access = jwt.decode(tokens["AccessToken"], options={"verify_signature": False})
    identity = jwt.decode(tokens["IdToken"], options={"verify_signature": False})
    assert sorted(access["scope"].split()) == ["aws.cognito.signin.user.admin",
                                               f"editor-{client}", f"viewer-{client}"]
    assert "scope" not in identity
    assert sorted(identity["cognito:groups"]) == ["editor", "viewer"]
    url = scaled.outputs["route_urls"]["GET /RegularUser"]
    assert call(url, token=tokens["AccessToken"]).status == 200
    # The authorizer cannot tell the tokens apart: the ID token is valid but has no scope.
    assert call(url, token=tokens["IdToken"]).status == 403


def test_the_default_stage_serves_at_the_root(scaled):
    api_url = scaled.outputs["api_url"]
    assert api_url.endswith("/") and api_url.count("/") == 3
    assert scaled.outputs["route_urls"]["GET /AdminUser"] == api_url + "AdminUser"
    token = sign_in(scaled, "alice")["AccessToken"]
    event = call(api_url + "AdminUser", token=token).json()["event"]
    assert event["rawPath"] == "/AdminUser" and event["requestContext"]["stage"] == "$default"
    assert call(api_url, token=token).status == 404  # no route for "/"


def test_path_parameters_and_the_greedy_route(scaled):
    api_url = scaled.outputs["api_url"]
    token = sign_in(scaled, "alice")["AccessToken"]
    posted = call(api_url + "documents/a%20b?draft=1&tag=x&tag=y", method="POST", token=token,
                  headers={"Content-Type": "application/json", "Cookie": "a=1; b=2"},
                  body=b'{"title": "t"}').json()["event"]
    assert posted["routeKey"] == "POST /documents/{id}"
    assert posted["pathParameters"] == {"id": "a b"}
    assert posted["queryStringParameters"] == {"draft": "1", "tag": "x,y"}
    assert posted["rawQueryString"] == "draft=1&tag=x&tag=y"
    assert posted["body"] == '{"title": "t"}' and posted["isBase64Encoded"] is False
    assert posted["cookies"] == ["a=1", "b=2"] and "cookie" not in posted["headers"]
    greedy = call(api_url + "admin/reports/2024/q1", method="DELETE", token=token).json()["event"]
    assert greedy["routeKey"] == "ANY /admin/{proxy+}"
    assert greedy["pathParameters"] == {"proxy": "reports/2024/q1"}
    assert greedy["requestContext"]["http"]["method"] == "DELETE"
    # {proxy+} needs at least one segment; a GET on the POST route has no route.
    assert call(api_url + "admin", token=token).status == 404
    assert call(api_url + "documents/1", token=token).status == 404


def test_cors_preflights_and_headers_as_configured(scaled):
    api_url = scaled.outputs["api_url"]
    preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    # No route takes OPTIONS /AdminUser: API Gateway answers the preflight itself.
    answer = call(api_url + "AdminUser", method="OPTIONS", headers=preflight)
    assert answer.status == 204 and answer.body == b""
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert answer.headers["access-control-allow-headers"] == "authorization,content-type"
    assert answer.headers["access-control-max-age"] == "3600"
    # ANY /admin/{proxy+} would take OPTIONS and want a token: the components' public
    # OPTIONS /admin/{proxy+} route answers the preflight first, through its own function.
    caught = call(api_url + "admin/x", method="OPTIONS", headers=preflight)
    assert caught.status == 204 and caught.headers["access-control-allow-origin"] == ORIGIN
    # Responses of routes carry the CORS headers for allowed origins only.
    token = sign_in(scaled, "victor")["AccessToken"]
    assert call(api_url + "AdminUser", token=token, headers={"Origin": ORIGIN}).headers[
        "access-control-allow-origin"] == ORIGIN
    other = call(api_url + "AdminUser", token=token, headers={"Origin": "https://evil.test"})
    assert other.status == 403 and "access-control-allow-origin" not in other.headers
    refused = call(api_url + "AdminUser", method="OPTIONS",
                   headers={**preflight, "Origin": "https://evil.test"})
    assert refused.status == 204 and "access-control-allow-origin" not in refused.headers


def test_the_stage_throttles_each_route(tmp_path):
    config = generated_config(2, 1, users=2)
    config[f"{NS}:throttlingBurstLimit"] = 2
    config[f"{NS}:throttlingRateLimit"] = 0
    with started(config, tmp_path) as sandbox:
        (get, url), (post, _) = sandbox.outputs["route_urls"].items()
        assert (get, post) == ("GET /res000", "POST /res000")
        answers = [call(url).status for _ in range(3)]
        throttled = call(url)
        other = call(url, method="POST")
    assert answers == [401, 401, 429]
    assert (throttled.status, throttled.body) == (429, b'{"message":"Too Many Requests"}')
    assert other.status == 401  # each route has its own bucket
