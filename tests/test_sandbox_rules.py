"""The sandbox's pure rules, each against the AWS behaviour it models: ARN matching, the Pre
Token Generation event and what Cognito does with the answer, the payload 2.0 event and
response mapping, CORS, throttling, access-log lines, the JWT checks, random passwords."""

from __future__ import annotations

import copy
import json
import string
from pathlib import Path

import pytest

from jwt_scoped.sandbox import cognito_trigger as trigger
from jwt_scoped.sandbox.access_log import render
from jwt_scoped.sandbox.apis import Authorizer, Cors
from jwt_scoped.sandbox.arns import FunctionRef, arn_like, function_ref, integration_function, names_function
from jwt_scoped.sandbox.cognito import TriggerIssuer, token_lifetime
from jwt_scoped.sandbox.cors import origin_allowed, preflight_headers, response_headers, without_cors_headers
from jwt_scoped.sandbox.gateway import source_arn
from jwt_scoped.sandbox.jwt_authorizer import (
    BAD_ALGORITHM,
    BAD_AUDIENCE,
    BAD_ISSUER,
    BAD_SIGNATURE,
    EXPIRED,
    MALFORMED,
    NOT_YET_VALID,
    UNKNOWN_KEY,
    challenge,
    claim_strings,
    claims_problem,
    public_key,
    scopes_admit,
    token_from,
    verify,
)
from jwt_scoped.sandbox.lambdas import AccessDenied, FunctionNotFound, FunctionSpec, LambdaError, Permission
from jwt_scoped.sandbox.moto_hook import Group, TokenRequest, TriggerFailed, moto_version_problem
from jwt_scoped.sandbox.payload import Context, MalformedResponse, Request, event_v2, response_v2
from jwt_scoped.sandbox.provider import random_text
from jwt_scoped.sandbox.throttle import TokenBucket

from fixtures.trigger_events import V1_EVENT, V2_EVENT

# ---- ARNs -----------------------------------------------------------------------------------


def test_arn_like_wildcards_stay_within_their_part_except_in_the_resource():
    api = "arn:aws:execute-api:us-east-1:123456789012:abc123"
    assert arn_like(f"{api}/Test/GET/AdminUser", f"{api}/*/*")
    assert arn_like(f"{api}/$default/$default", f"{api}/*/*")
    assert arn_like(f"{api}/Test/GET/AdminUser", "arn:aws:execute-api:*:123456789012:abc123/*")
    assert not arn_like(f"{api}/Test/GET/AdminUser", f"{api}/Prod/*")
    assert not arn_like(f"{api}/Test/GET/AdminUser",
                        "arn:aws:execute-api:us-east-1:123456789012:other/*/*")
    # A wildcard in the region part does not swallow the account.
    assert not arn_like(f"{api}/x", "arn:aws:execute-api:*:999999999999:abc123/*")
    assert arn_like("arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_a",
                    "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_a")
    assert not arn_like("arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_a",
                        "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_b")


def test_function_references_in_every_form_lambda_accepts():
    assert function_ref("my-fn") == FunctionRef("my-fn")
    assert function_ref("123456789012:function:my-fn") == FunctionRef("my-fn", "123456789012")
    assert function_ref("arn:aws:lambda:eu-west-2:123456789012:function:my-fn:live") == \
        FunctionRef("my-fn", "123456789012", "eu-west-2", "live")
    uri = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
           "arn:aws:lambda:us-east-1:123456789012:function:my-fn/invocations")
    assert integration_function(uri) == FunctionRef("my-fn", "123456789012", "us-east-1")
    assert names_function(FunctionRef("my-fn"), "my-fn", "123456789012", "us-east-1")
    assert not names_function(FunctionRef("my-fn", qualifier="live"), "my-fn", "123456789012",
                              "us-east-1")
    assert not names_function(FunctionRef("my-fn", "999999999999"), "my-fn", "123456789012",
                              "us-east-1")


def test_source_arn_of_an_invocation_names_stage_method_and_route_path():
    from jwt_scoped.sandbox.apis import Api

    api = Api("abc", "api", "arn:aws:execute-api:us-east-1:123456789012:abc", "http://x")
    assert source_arn(api, "Test", "GET", "GET /pets/{id}") == \
        "arn:aws:execute-api:us-east-1:123456789012:abc/Test/GET/pets/{id}"
    assert source_arn(api, "$default", "DELETE", "ANY /x") == \
        "arn:aws:execute-api:us-east-1:123456789012:abc/$default/*/x"
    assert source_arn(api, "$default", "GET", "$default") == \
        "arn:aws:execute-api:us-east-1:123456789012:abc/$default/$default"


# ---- the Pre Token Generation trigger -------------------------------------------------------


def _event(version):
    return trigger.pre_token_event(
        version=version, trigger_source=trigger.AUTHENTICATION, region="us-west-2",
        user_pool_id="us-west-2_example", username="adminuser", client_id=V1_EVENT[
            "callerContext"]["clientId"],
        user_attributes=V1_EVENT["request"]["userAttributes"], groups=["admin", "regular"],
        scopes=["aws.cognito.signin.user.admin"])


@pytest.mark.parametrize(("version", "documented"), [("1", V1_EVENT), ("2", V2_EVENT)])
def test_the_event_is_the_documented_shape(version, documented):
    assert _event(version) == documented


def test_event_versions_follow_the_pools_lambda_version():
    assert [trigger.event_version(v) for v in ("V1_0", "V2_0", "V3_0")] == ["1", "2", "3"]
    with pytest.raises(ValueError, match="V4_0"):
        trigger.event_version("V4_0")


def test_v1_answer_edits_the_id_token_only():
    answer = copy.deepcopy(V1_EVENT)
    answer["response"] = {"claimsOverrideDetails": {
        "claimsToAddOrOverride": {"scope": "admin-x regular-x", "sub": "forged"},
        "claimsToSuppress": ["email"],
        "groupOverrideDetails": {"groupsToOverride": ["admin"], "iamRolesToOverride": ["r"],
                                 "preferredRole": "r"}}}
    changes = trigger.token_changes("1", answer)
    base = {"email": "a@example.com", "cognito:groups": ["admin", "regular"], "sub": "s"}
    assert trigger.apply_changes(changes, "id", base) == {
        "scope": "admin-x regular-x", "cognito:groups": ["admin"], "sub": "s",
        "cognito:roles": ["r"], "cognito:preferred_role": "r"}
    # The access token keeps its claims; the group override reaches it too.
    access = {"scope": "aws.cognito.signin.user.admin", "cognito:groups": ["admin", "regular"]}
    assert trigger.apply_changes(changes, "access", access) == {
        "scope": "aws.cognito.signin.user.admin", "cognito:groups": ["admin"]}


def test_v2_answer_adds_access_token_scopes_and_keeps_cognitos_own_claims():
    answer = copy.deepcopy(V2_EVENT)
    answer["response"] = {"claimsAndScopeOverrideDetails": {
        "idTokenGeneration": {"claimsToAddOrOverride": {"tier": 3}},
        "accessTokenGeneration": {"claimsToAddOrOverride": {"scope": "forged", "plan": ["a"]},
                                  "scopesToAdd": ["admin-x", "regular-x"],
                                  "scopesToSuppress": ["aws.cognito.signin.user.admin"]}}}
    changes = trigger.token_changes("2", answer)
    assert trigger.apply_changes(changes, "access", {"scope": "aws.cognito.signin.user.admin"}) \
        == {"scope": "admin-x regular-x", "plan": ["a"]}
    assert trigger.apply_changes(changes, "id", {"cognito:groups": ["admin"]}) == {
        "cognito:groups": ["admin"], "tier": 3}


def test_an_unchanged_event_changes_nothing():
    for version, event in (("1", V1_EVENT), ("2", V2_EVENT)):
        changes = trigger.token_changes(version, copy.deepcopy(event))
        assert trigger.apply_changes(changes, "id", {"a": "1"}) == {"a": "1"}
        assert trigger.apply_changes(changes, "access", {"scope": "s"}) == {"scope": "s"}


@pytest.mark.parametrize(("version", "answer"), [
    ("1", None),
    ("1", "not the event"),
    ("1", {"response": {"claimsOverrideDetails": {"claimsToAddOrOverride": {"n": 1}}}}),
    ("1", {"response": {"claimsOverrideDetails": {"claimsToSuppress": "email"}}}),
    ("2", {"response": {"claimsAndScopeOverrideDetails": {
        "accessTokenGeneration": {"scopesToAdd": "admin-x"}}}}),
    ("2", {"response": []}),
])
def test_an_answer_cognito_cannot_read_is_unrecognizable(version, answer):
    with pytest.raises(trigger.Unrecognizable, match="Unrecognizable lambda output"):
        trigger.token_changes(version, answer)


def test_cognitos_failure_messages():
    assert trigger.failure_message("boom") == "PreTokenGeneration failed with error boom."
    assert trigger.invocation_failure_message("AccessDeniedException") == (
        "PreTokenGeneration invocation failed due to error AccessDeniedException.")


class _Lambda:
    """A local Lambda whose trigger answers ``answer`` (or raises it)."""

    def __init__(self, answer):
        self.answer = answer

    def invoke_as(self, principal, ref, event, **where):
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def _issue(answer, lambda_config=None):
    request = TokenRequest(
        region="us-east-1", account="123456789012", user_pool_id="us-east-1_p",
        user_pool_arn="arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_p",
        lambda_config={"PreTokenGenerationConfig": {
            "LambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:t",
            "LambdaVersion": "V1_0"}} if lambda_config is None else lambda_config,
        client_id="c", client_config={}, username="u", user_attributes={"sub": "s"},
        groups=(Group("b", None, None), Group("a", 2, None), Group("c", 1, "role")),
        refresh=False)
    return TriggerIssuer(_Lambda(answer)).issue(request)


def test_trigger_failures_become_cognitos_messages():
    with pytest.raises(TriggerFailed, match=r"^PreTokenGeneration failed with error "
                                            r"Unrecognizable lambda output\.$"):
        _issue(None)
    with pytest.raises(TriggerFailed, match=r"^PreTokenGeneration invocation failed due to "
                                            r"error AccessDeniedException\.$"):
        _issue(AccessDenied())
    with pytest.raises(TriggerFailed, match="due to error ResourceNotFoundException"):
        _issue(FunctionNotFound())
    with pytest.raises(TriggerFailed, match=r"failed with error boom\.$"):
        _issue(LambdaError({"errorMessage": "boom", "errorType": "ValueError"}))


def test_groups_go_out_in_precedence_order_and_no_trigger_means_moto_claims():
    issuance = _issue(None, lambda_config={})
    assert issuance.claims("id", {"cognito:groups": ["a", "b", "c"], "x": "1"}) == {
        "cognito:groups": ["c", "a", "b"], "x": "1"}


def test_permissions_name_principal_function_and_source():
    spec = FunctionSpec("fn", "arn:aws:lambda:us-east-1:123456789012:function:fn", "h.h", 3,
                        128, "python3.13", {}, Path("/x"), "/aws/lambda/fn")
    pool = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_p"
    cognito = Permission("fn", "cognito-idp.amazonaws.com", source_arn=pool)

    def allows(permission, principal="cognito-idp.amazonaws.com", source=pool):
        return permission.allows(spec, "123456789012", "us-east-1", principal, source,
                                 "123456789012")

    assert allows(cognito)
    assert not allows(cognito, source=pool.replace("_p", "_other"))  # another pool
    assert not allows(cognito, principal="apigateway.amazonaws.com")
    assert not allows(Permission("other-fn", "cognito-idp.amazonaws.com"))
    assert allows(Permission(spec.arn, "cognito-idp.amazonaws.com"))  # no source: any
    assert not allows(Permission("fn", "cognito-idp.amazonaws.com", qualifier="live"))
    assert not allows(Permission("fn", "cognito-idp.amazonaws.com", action="lambda:GetFunction"))


def test_token_lifetimes_follow_the_app_client():
    config = {"IdTokenValidity": 5, "AccessTokenValidity": 2,
              "TokenValidityUnits": {"IdToken": "minutes", "AccessToken": "hours"}}
    assert token_lifetime(config, "id") == 300
    assert token_lifetime(config, "access") == 7200
    assert token_lifetime({"IdTokenValidity": 3}, "id") == 3 * 3600  # hours by default
    assert token_lifetime({}, "access") is None


def test_the_moto_hook_refuses_moto_versions_it_was_not_written_for():
    assert moto_version_problem("5.2.5") is None
    assert "found 5.3.0" in moto_version_problem("5.3.0")
    assert "found 4.2.14" in moto_version_problem("4.2.14")


# ---- payload format 2.0 ---------------------------------------------------------------------


def test_the_payload_2_event_is_the_documented_shape():
    request = Request(method="POST", raw_path="/Test/documents/a%20b",
                      raw_query="x=1&x=2&y=", source_ip="127.0.0.1",
                      headers=[("Host", "h"), ("User-Agent", "ua"), ("X-Many", "a"),
                               ("x-many", "b"), ("Cookie", "c1=1; c2=2"),
                               ("Content-Type", "application/json")],
                      body=b'{"k": 1}')
    context = Context(api_id="abc", account="123456789012", domain_name="abc.example.com",
                      stage="Test", route_key="POST /documents/{id}", request_id="rid",
                      time_epoch_ms=1583348638390, path_parameters={"id": "a b"},
                      claims={"sub": "s", "cognito:groups": "[admin regular]"},
                      scopes=["admin-x"])
    assert event_v2(request, context) == {
        "version": "2.0", "routeKey": "POST /documents/{id}", "rawPath": "/Test/documents/a%20b",
        "rawQueryString": "x=1&x=2&y=", "cookies": ["c1=1", "c2=2"],
        "headers": {"host": "h", "user-agent": "ua", "x-many": "a,b",
                    "content-type": "application/json"},
        "queryStringParameters": {"x": "1,2", "y": ""},
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc", "domainName": "abc.example.com",
            "domainPrefix": "abc",
            "http": {"method": "POST", "path": "/Test/documents/a%20b", "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "ua"},
            "requestId": "rid", "routeKey": "POST /documents/{id}", "stage": "Test",
            "time": "04/Mar/2020:19:03:58 +0000", "timeEpoch": 1583348638390,
            "authorizer": {"jwt": {"claims": {"sub": "s", "cognito:groups": "[admin regular]"},
                                   "scopes": ["admin-x"]}}},
        "body": '{"k": 1}', "pathParameters": {"id": "a b"}, "isBase64Encoded": False}


def test_binary_bodies_are_base64_and_public_routes_have_no_authorizer():
    request = Request("PUT", "/x", "", [("content-type", "image/png")], b"\x89PNG", "::1")
    event = event_v2(request, Context("a", "1", "a.b", "$default", "PUT /x", "r", 0))
    assert (event["body"], event["isBase64Encoded"]) == ("iVBORw==", True)
    assert "authorizer" not in event["requestContext"]
    assert "queryStringParameters" not in event and "pathParameters" not in event


def test_payload_2_response_mapping():
    assert response_v2({"statusCode": 201, "headers": {"X-A": 1}, "cookies": ["a=1"],
                        "body": "aGk=", "isBase64Encoded": True}) == \
        response_v2({"statusCode": 201, "headers": {"x-a": "1"}, "cookies": ["a=1"], "body": "hi"})
    answer = response_v2({"statusCode": 201, "headers": {"X-A": 1}, "cookies": ["a=1"]})
    assert (answer.status, answer.headers, answer.body) == (201, [("x-a", "1"),
                                                                  ("set-cookie", "a=1")], b"")
    # Anything without statusCode is a 200 JSON body.
    assert response_v2({"message": "hi"}).body == b'{"message": "hi"}'
    assert response_v2({"message": "hi"}).headers == [("content-type", "application/json")]
    assert response_v2("Hello").body == b"Hello"
    for bad in ({"statusCode": "200"}, {"statusCode": 200, "headers": []},
                {"statusCode": 200, "body": {"a": 1}}, {"statusCode": 200, "cookies": "a=1"}):
        with pytest.raises(MalformedResponse):
            response_v2(bad)


# ---- CORS, throttling, access logs ----------------------------------------------------------

CORS = Cors(allow_origins=("https://app.example.com", "https://*.example.org"),
            allow_methods=("GET", "POST"), allow_headers=("authorization",),
            expose_headers=("x-id",), max_age=600)


def test_cors_headers_only_for_allowed_origins():
    assert origin_allowed(CORS, "https://app.example.com")
    assert origin_allowed(CORS, "https://a.example.org")
    assert not origin_allowed(CORS, "https://evil.example.com")
    assert response_headers(CORS, {"origin": "https://evil.example.com"}) == []
    assert response_headers(CORS, {}) == []
    assert response_headers(CORS, {"origin": "https://app.example.com"}) == [
        ("access-control-allow-origin", "https://app.example.com"),
        ("access-control-expose-headers", "x-id")]
    assert preflight_headers(CORS, {"origin": "https://app.example.com"}) == [
        ("access-control-allow-origin", "https://app.example.com"),
        ("access-control-expose-headers", "x-id"),
        ("access-control-allow-methods", "GET,POST"),
        ("access-control-allow-headers", "authorization"),
        ("access-control-max-age", "600")]
    assert response_headers(Cors(allow_origins=("*",)), {"origin": "https://x.test"}) == [
        ("access-control-allow-origin", "*")]
    # API Gateway ignores the integration's own CORS headers.
    assert without_cors_headers([("Access-Control-Allow-Origin", "*"), ("x", "1")]) == [("x", "1")]


def test_token_bucket_burst_then_rate():
    now = [0.0]
    bucket = TokenBucket(burst=2, rate=1, clock=lambda: now[0])
    assert [bucket.take() for _ in range(3)] == [True, True, False]
    now[0] = 0.5
    assert not bucket.take()
    now[0] = 1.0
    assert bucket.take() and not bucket.take()
    closed = TokenBucket(burst=0, rate=0, clock=lambda: now[0])
    assert not closed.take()


def test_access_log_lines_fill_context_variables_and_stay_json():
    from jwt_scoped.http_api import ACCESS_LOG_FORMAT

    line = render(ACCESS_LOG_FORMAT, {"requestId": "r1", "status": 401, "routeKey": "GET /A",
                                      "authorizer.error": 'the "token" is bad',
                                      "authorizer.claims.sub": "s-1"})
    fields = json.loads(line)
    assert fields["requestId"] == "r1" and fields["status"] == "401"
    assert fields["authorizerError"] == 'the "token" is bad'
    assert fields["sub"] == "s-1"
    assert fields["integrationError"] == "-" and fields["ip"] == "-"


# ---- the JWT authorizer ---------------------------------------------------------------------

AUTHORIZER = Authorizer("a1", "api", "jwt", "JWT", ("$request.header.Authorization",),
                        "https://issuer.example", ("client-1",))


def test_token_comes_from_the_identity_source_bare_or_bearer():
    source = "$request.header.Authorization"
    assert token_from(source, {"authorization": "Bearer abc"}, {}) == "abc"
    assert token_from(source, {"authorization": "bearer abc"}, {}) == "abc"
    assert token_from(source, {"authorization": "abc"}, {}) == "abc"
    # White space around a value is not part of it, bare or after Bearer alike.
    assert token_from(source, {"authorization": "abc  "}, {}) == "abc"
    assert token_from(source, {"authorization": "Bearer abc  "}, {}) == "abc"
    assert token_from(source, {"authorization": "Bearer "}, {}) is None
    assert token_from(source, {}, {}) is None
    assert token_from("$request.querystring.token", {}, {"token": "q"}) == "q"


def test_claims_checks_in_aws_order():
    good = {"iss": "https://issuer.example", "aud": "client-1", "exp": 200, "iat": 50}
    assert claims_problem(good, AUTHORIZER, 100) is None
    assert claims_problem({**good, "exp": 100}, AUTHORIZER, 100) == EXPIRED
    assert claims_problem({**good, "nbf": 150}, AUTHORIZER, 100) == NOT_YET_VALID
    assert claims_problem({**good, "iat": 150}, AUTHORIZER, 100) == NOT_YET_VALID
    assert claims_problem({**good, "iss": "https://other"}, AUTHORIZER, 100) == BAD_ISSUER
    assert claims_problem({**good, "aud": "client-2"}, AUTHORIZER, 100) == BAD_AUDIENCE
    # Access tokens have no aud: client_id is checked instead, and only then.
    access = {k: v for k, v in good.items() if k != "aud"}
    assert claims_problem({**access, "client_id": "client-1"}, AUTHORIZER, 100) is None
    assert claims_problem({**good, "aud": "client-2", "client_id": "client-1"}, AUTHORIZER,
                          100) == BAD_AUDIENCE
    # A time that is not a finite number never passes: a token whose exp is "never" is expired.
    for exp in (float("inf"), float("nan"), "300", True, None):
        assert claims_problem({**good, "exp": exp}, AUTHORIZER, 100) == EXPIRED, exp
    assert claims_problem({**good, "nbf": float("-inf")}, AUTHORIZER, 100) == NOT_YET_VALID


def _signed(payload: str, key, kid: str = "k1", alg: str = "RS256") -> str:
    """A compact JWS over ``payload`` exactly as written (not re-encoded)."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"kid": kid, "alg": alg}).encode()) + "." + b64(payload.encode())
    signature = key.sign(head.encode(), padding.PKCS1v15(), hashes.SHA256())
    return head + "." + b64(signature)


def test_tokens_are_verified_with_parsed_keys_and_strict_json():
    import jwt as pyjwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(pyjwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    public = public_key(jwk)
    keys = {"k1": public}

    def lookup(issuer, kid):
        return keys.get(kid)

    claims = '{"iss": "https://issuer.example", "aud": "client-1", "exp": %s, "iat": 50}'
    assert verify(_signed(claims % "200", key), AUTHORIZER, lookup, 100).claims["exp"] == 200
    assert verify(_signed(claims % "200", key), AUTHORIZER, lookup, 300).error == EXPIRED
    # Python's json reads NaN and Infinity; a JWT's claims are JSON, which has neither.
    for never in ("NaN", "Infinity", "1e999"):
        verdict = verify(_signed(claims % never, key), AUTHORIZER, lookup, 100)
        assert verdict.claims is None and verdict.error in (MALFORMED, EXPIRED), never
    twice = '{"iss": "https://issuer.example", "aud": "client-1", "aud": "x", "exp": 200}'
    assert verify(_signed(twice, key), AUTHORIZER, lookup, 100).error == MALFORMED
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert verify(_signed(claims % "200", other), AUTHORIZER, lookup, 100).error == BAD_SIGNATURE
    assert verify(_signed(claims % "200", key, kid="k2"), AUTHORIZER, lookup,
                  100).error == UNKNOWN_KEY
    assert verify(_signed(claims % "200", key, alg="HS256"), AUTHORIZER, lookup,
                  100).error == BAD_ALGORITHM
    assert verify("not.a.jwt", AUTHORIZER, lookup, 100).error == MALFORMED


def test_route_scopes_any_one_admits_and_none_means_any_valid_token():
    assert scopes_admit(["a", "b"], {"scope": "x b"})
    assert scopes_admit(["a"], {"scp": ["a"]})
    assert not scopes_admit(["a"], {"scope": "x"})
    assert not scopes_admit(["a"], {})
    assert scopes_admit([], {})


def test_401_challenge_and_claims_as_strings():
    assert challenge('the "x"') == \
        'Bearer scope="" error="invalid_token" error_description="the \\"x\\""'
    assert claim_strings({"exp": 1, "cognito:groups": ["a", "b"], "ok": True}) == {
        "exp": "1", "cognito:groups": "[a b]", "ok": "true"}


# ---- random passwords -----------------------------------------------------------------------


def test_random_passwords_honour_the_resources_inputs():
    inputs = {"length": 24.0, "special": True, "overrideSpecial": "-_.+", "minLower": 1.0,
              "minUpper": 1.0, "minNumeric": 1.0, "minSpecial": 1.0}
    for _ in range(50):
        text = random_text(inputs)
        assert len(text) == 24 and set(text) <= set(string.ascii_letters + string.digits + "-_.+")
        assert {c for c in text} & set("-_.+") and any(c.isupper() for c in text)
        assert any(c.islower() for c in text) and any(c.isdigit() for c in text)
    plain = random_text({"length": 8.0, "special": False, "upper": False})
    assert len(plain) == 8 and set(plain) <= set(string.ascii_lowercase + string.digits)
