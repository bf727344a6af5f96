"""The decisions of `access verify`, as plain calls: what to call and expect, when the deployment
cannot be checked, what a 401 says, how sign-in failures read, and when to retry."""

from __future__ import annotations

import base64

import botocore
import pytest

from jwt_scoped.access.matrix import ANONYMOUS, build_matrix
from jwt_scoped.access.outputs import OutputsError, parse_outputs, pulumi_command
from jwt_scoped.access.probe import RetryPolicy, error_description, should_retry
from jwt_scoped.access.signin import SignInError, cognito_client, sign_in_error_message, token_from
from jwt_scoped.access.verify import (
    OTHER_TOKEN,
    PREFLIGHT,
    TAMPERED,
    Outcome,
    Probe,
    deployment_problems,
    mismatch_lines,
    probes,
    tamper,
    token_for,
    url_for,
)
from jwt_scoped.modes import TokenUse

from access_configs import settings_of, small_config

CLIENT = "71ghuul37mresr7h373b704tua"


def blog_matrix(**extra):
    return build_matrix(settings_of(small_config(**extra)))


def good_outputs(**changes) -> dict:
    raw = {"api_url": "https://abc.execute-api.us-east-1.amazonaws.com/Test",
           "route_urls": {"GET /AdminUser": "https://abc/Test/AdminUser",
                          "GET /RegularUser": "https://abc/Test/RegularUser"},
           "user_pool_id": "us-east-1_AbCdEfGhI", "app_client_id": CLIENT,
           "issuer_url": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGhI",
           "token_use": "id", "scopes": {"admin": f"admin-{CLIENT}", "regular": f"regular-{CLIENT}"},
           "test_user_passwords": {"adminuser": "a", "regularuser": "r"}}
    raw.update(changes)
    return raw


# ---- what to call, what to expect ---------------------------------------------------------

def test_every_route_is_called_anonymously_by_each_user_and_with_a_tampered_token():
    got = [(p.route, p.caller, p.expected) for p in probes(blog_matrix(), tampered=True)]
    assert got == [
        ("GET /AdminUser", ANONYMOUS, 401), ("GET /AdminUser", "adminuser", 200),
        ("GET /AdminUser", "regularuser", 403), ("GET /AdminUser", TAMPERED, 401),
        ("GET /RegularUser", ANONYMOUS, 401), ("GET /RegularUser", "adminuser", 200),
        ("GET /RegularUser", "regularuser", 200), ("GET /RegularUser", TAMPERED, 401)]


def test_without_users_there_is_no_token_to_tamper_with():
    config = small_config()
    del config["jwt-scoped-api:users"]
    assert {p.caller for p in probes(build_matrix(settings_of(config)), tampered=False)} == {
        ANONYMOUS}


def test_routes_with_parameters_are_called_on_a_sample_path():
    config = small_config()
    config["jwt-scoped-api:routes"].append({"route": "DELETE /items/{id}/{rest+}",
                                            "function": "admin_user", "groups": ["admin"]})
    probe = probes(build_matrix(settings_of(config)), tampered=False)[-1]
    assert (probe.method, probe.path) == ("DELETE", "/items/sample/sample")
    assert url_for("https://x/Test", probe.path) == "https://x/Test/items/sample/sample"
    assert url_for("https://x/", "/AdminUser") == "https://x/AdminUser"  # $default stage


def jwt_like(signature: bytes) -> str:
    enc = base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    return f"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.{enc}"


@pytest.mark.parametrize("signature", [bytes(256), bytes(range(256)), b"\xff" * 256])
def test_a_tampered_token_keeps_header_and_claims_but_not_the_signature(signature):
    token = jwt_like(signature)
    bad = tamper(token)
    assert bad.split(".")[:2] == token.split(".")[:2]
    decoded = base64.urlsafe_b64decode(bad.split(".")[2] + "==")
    assert len(decoded) == len(signature) and decoded != signature


def test_tamper_refuses_what_is_not_a_jwt():
    with pytest.raises(ValueError, match="not a signed JWT"):
        tamper("opaque-token")


# ---- is the deployment the one this config describes? -------------------------------------

def test_outputs_of_this_config_are_checkable():
    assert deployment_problems(blog_matrix(), parse_outputs(good_outputs())) == []


@pytest.mark.parametrize(("changes", "problem"), [
    ({"token_use": "access"}, "the config says tokenUse 'id' but the stack was deployed with 'access'"),
    ({"test_user_passwords": {"adminuser": "a"}}, "no password in test_user_passwords for regularuser"),
    ({"route_urls": {"GET /AdminUser": "u"}}, "route_urls has no GET /RegularUser"),
    ({"scopes": {"admin": "admin:other"}}, "scopes[admin] is 'admin:other'"),
])
def test_a_deployment_of_another_config_is_named(changes, problem):
    problems = deployment_problems(blog_matrix(), parse_outputs(good_outputs(**changes)))
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize("key", ["api_url", "user_pool_id", "app_client_id", "token_use",
                                 "test_user_passwords"])
def test_outputs_missing_a_key_name_it(key):
    raw = good_outputs()
    del raw[key]
    with pytest.raises(OutputsError, match=f"the stack outputs lack '{key}'"):
        parse_outputs(raw)


def test_outputs_saved_without_show_secrets_say_so():
    with pytest.raises(OutputsError, match="test_user_passwords as \\[secret\\]: save them with"):
        parse_outputs(good_outputs(test_user_passwords="[secret]"))


@pytest.mark.parametrize(("changes", "message"), [
    ({"api_url": "ftp://x"}, "not an http"), ({"app_client_id": 7}, "non-empty string"),
    ({"test_user_passwords": ["a"]}, "should map names to strings"),
])
def test_malformed_outputs_are_refused(changes, message):
    with pytest.raises(OutputsError, match=message):
        parse_outputs(good_outputs(**changes))


def test_the_pulumi_command_shows_secrets_and_passes_the_stack():
    assert pulumi_command("dev") == ["pulumi", "stack", "output", "--json", "--show-secrets",
                                     "--stack", "dev"]
    assert pulumi_command(None)[-1] == "--show-secrets"


# ---- answers, sign-in failures, retries ---------------------------------------------------

@pytest.mark.parametrize(("header", "reason"), [
    ('Bearer scope="" error="invalid_token" error_description="the token does not have a valid '
     'audience"', "the token does not have a valid audience"),
    ('Bearer error="invalid_token" error_description="say \\"hi\\""', 'say "hi"'),
    ("Bearer", None), (None, None),
])
def test_the_401_reason_is_the_www_authenticate_error_description(header, reason):
    assert error_description(header) == reason


def test_mismatches_are_listed_one_per_line_with_the_reason():
    ok = Outcome(Probe("adminuser", "GET /AdminUser", "GET", "/AdminUser", 200), 200)
    bad = Outcome(Probe("regularuser", "GET /AdminUser", "GET", "/AdminUser", 403), 200)
    why = Outcome(Probe("adminuser", "GET /RegularUser", "GET", "/RegularUser", 200), 401,
                  "the token has expired")
    assert mismatch_lines([ok]) == ["All 1 cells match."]
    assert mismatch_lines([ok, bad, why]) == [
        "2 mismatches:",
        "  regularuser  GET /AdminUser    expected 403, got 200",
        "  adminuser    GET /RegularUser  expected 200, got 401 (the token has expired)"]


def test_a_wrong_password_reads_as_one():
    message = sign_in_error_message("regularuser", CLIENT, "NotAuthorizedException",
                                    "Incorrect username or password.")
    assert message.startswith("cannot sign in 'regularuser': Cognito says 'Incorrect username or "
                              "password.' (NotAuthorizedException); wrong password?")


def test_a_client_without_user_password_auth_says_which_flow_to_allow():
    message = sign_in_error_message("adminuser", CLIENT, "InvalidParameterException",
                                    "USER_PASSWORD_AUTH flow not enabled for this client")
    assert f"the app client {CLIENT} does not allow USER_PASSWORD_AUTH" in message
    assert "add ALLOW_USER_PASSWORD_AUTH" in message


def test_sign_in_is_unsigned_in_the_pools_region(monkeypatch, tmp_path):
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    client = cognito_client("eu-west-2_AbCdEfGhI", attempts=3, timeout=4)
    assert client.meta.region_name == "eu-west-2"
    assert client.meta.endpoint_url == "https://cognito-idp.eu-west-2.amazonaws.com"
    assert client.meta.config.signature_version is botocore.UNSIGNED


def test_sign_in_honours_boto3s_standard_endpoint_variable(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "http://127.0.0.1:4566")
    client = cognito_client("ap-southeast-2_AbCdEfGhI", attempts=3, timeout=4)
    assert client.meta.endpoint_url == "http://127.0.0.1:4566"
    assert client.meta.region_name == "ap-southeast-2"


def test_the_token_carrying_the_scopes_is_picked_by_token_use():
    result = {"AuthenticationResult": {"IdToken": "id.t.s", "AccessToken": "ac.t.s"}}
    assert token_from(result, "id", "u") == "id.t.s"
    assert token_from(result, "access", "u") == "ac.t.s"
    with pytest.raises(SignInError, match="NEW_PASSWORD_REQUIRED challenge"):
        token_from({"ChallengeName": "NEW_PASSWORD_REQUIRED"}, "id", "u")
    with pytest.raises(SignInError, match="returned no AccessToken"):
        token_from({"AuthenticationResult": {"IdToken": "x"}}, "access", "u")


@pytest.mark.parametrize(("status", "retry"), [
    (None, True), (503, True), (502, True), (500, True), (429, True), (404, True),
    (200, False), (401, False), (403, False),
])
def test_only_a_settling_stage_is_retried(status, retry):
    assert should_retry(status) is retry


def test_retries_are_bounded_with_doubling_capped_sleeps():
    assert RetryPolicy(attempts=5, backoff=1.0, max_sleep=3.0).sleeps() == [1.0, 2.0, 3.0, 3.0]
    assert RetryPolicy(attempts=1).sleeps() == []
    assert RetryPolicy(attempts=3, backoff=0).sleeps() == [0, 0]


def test_the_other_token_is_refused_on_group_routes_and_taken_on_signed_in_ones():
    config = small_config()
    config["jwt-scoped-api:routes"] += [
        {"route": "GET /me", "function": "admin_user", "access": "signed-in"},
        {"route": "GET /health", "function": "admin_user", "access": "public"}]
    got = {(p.route, p.caller): p.expected
           for p in probes(build_matrix(settings_of(config)), tampered=True, other_token=True)}
    assert [got[(r, OTHER_TOKEN)] for r in ("GET /AdminUser", "GET /me", "GET /health")] == [
        403, 200, 200]
    assert [got[(r, TAMPERED)] for r in ("GET /AdminUser", "GET /me", "GET /health")] == [
        401, 401, 200]


def test_each_token_is_presented_by_the_right_caller():
    tokens = {"adminuser": {TokenUse.ID: "a.b.cid", TokenUse.ACCESS: "a.b.cacc"},
              "regularuser": {TokenUse.ID: "r.b.cid", TokenUse.ACCESS: "r.b.cacc"}}
    assert token_for("regularuser", tokens, TokenUse.ID) == "r.b.cid"
    assert token_for("regularuser", tokens, TokenUse.ACCESS) == "r.b.cacc"
    assert token_for(OTHER_TOKEN, tokens, TokenUse.ID) == "a.b.cacc"
    assert token_for(TAMPERED, tokens, TokenUse.ID) == tamper("a.b.cid")
    assert token_for(ANONYMOUS, tokens, TokenUse.ID) is None
    assert token_for(PREFLIGHT, tokens, TokenUse.ID) is None


def test_with_cors_each_route_request_is_preflighted_like_a_browser():
    matrix = blog_matrix(corsOrigins=["https://app.example.com"])
    preflights = [p for p in probes(matrix, tampered=True) if p.caller == PREFLIGHT]
    assert [(p.route, p.method, p.path, p.expected, dict(p.headers)) for p in preflights] == [
        ("GET /AdminUser", "OPTIONS", "/AdminUser", 204,
         {"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"}),
        ("GET /RegularUser", "OPTIONS", "/RegularUser", 204,
         {"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"})]


@pytest.mark.parametrize(("expected", "actual", "allow_origin", "ok"), [
    (204, 204, "https://app.example.com", True),
    (204, 204, None, False),                      # no CORS header: the browser refuses it
    (204, 401, None, False),
    (None, 200, "https://app.example.com", True),  # a public route's own function: any 2xx
    (None, 404, None, False),
    (204, 204, "*", True),
])
def test_a_preflight_passes_only_with_its_status_and_the_cors_header(expected, actual,
                                                                     allow_origin, ok):
    probe = Probe(PREFLIGHT, "GET /x", "OPTIONS", "/x", expected,
                  (("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "GET")))
    assert Outcome(probe, actual, allow_origin=allow_origin).ok is ok
