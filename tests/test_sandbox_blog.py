"""The blog's stack in the sandbox, end to end on 127.0.0.1: the outputs and state it writes, the
token helper, the tokens the trigger shapes, the access log, and how functions run (their own warm
process, only their archive on the path, Lambda's environment)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import jwt
import pytest

from jwt_scoped.access.state import live_model, read_state_file
from jwt_scoped.cli import main as cli_main
from jwt_scoped.sandbox.app import outputs_json
from program import outputs as stack_outputs

from fixtures.stacks import blog_config
from functions_loader import archive
from sandbox_harness import ECHO, call, function_code, sign_in, started


@pytest.fixture(scope="module")
def blog(tmp_path_factory):
    log = io.StringIO()
    with started(blog_config(), tmp_path_factory.mktemp("logs"), access_log=log) as sandbox:
        sandbox.log = log
        yield sandbox


def test_outputs_are_the_programs_computed_from_local_ids(blog):
    outputs = blog.outputs
    assert set(outputs) == {*stack_outputs.ALL, "sandbox"}  # the program's, and the sandbox's
    pool, client = outputs["user_pool_id"], outputs["app_client_id"]
    assert blog.cognito.client.describe_user_pool(UserPoolId=pool)["UserPool"]["Id"] == pool
    assert outputs["issuer_url"] == f"https://cognito-idp.us-east-1.amazonaws.com/{pool}"
    assert outputs["scopes"] == {"admin": f"admin-{client}", "regular": f"regular-{client}"}
    (local,) = blog.api_urls.values()
    assert outputs["api_url"] == f"{local}/Test"
    assert outputs["route_urls"] == {"GET /AdminUser": f"{outputs['api_url']}/AdminUser",
                                     "GET /RegularUser": f"{outputs['api_url']}/RegularUser"}
    (domain,) = blog.cognito.domain_urls
    local_issuer = f"{blog.cognito_endpoint}/{pool}"
    assert outputs["sandbox"] == {
        "cognito_endpoint": blog.cognito_endpoint, "region": "us-east-1",
        "api_urls": blog.api_urls,
        "user_pools": {pool: {
            "issuer": outputs["issuer_url"], "local_issuer": local_issuer,
            "discovery_url": f"{local_issuer}/.well-known/openid-configuration",
            "domains": {domain: blog.cognito.domain_urls[domain]}}},
        "local_outputs": {"hosted_ui_url": outputs["hosted_ui_url"].replace(
            f"https://{domain}.auth.us-east-1.amazoncognito.com", blog.cognito.domain_urls[domain])}}
    assert blog.warnings() == []  # everything the blog's stack uses is modelled
    # As `pulumi stack output --json --show-secrets` prints them: sorted, indented, in clear.
    text = outputs_json(outputs)
    assert json.loads(text) == outputs
    assert text.startswith('{\n  "api_url": ') and text.endswith("}\n")
    assert json.loads(blog.outputs_file.read_text()) == outputs


def test_the_state_is_what_pulumi_stack_export_would_give_with_local_ids(blog):
    """Every resource the program registered, by URN, with its local id: what verify and the
    token helper read."""
    model = live_model(read_state_file(blog.state_file))
    (pool,) = model.pools
    assert pool.id == blog.outputs["user_pool_id"]
    assert [c.id for c in pool.clients] == [blog.outputs["app_client_id"]]
    assert {u.username: u.password for u in pool.users} == blog.outputs["test_user_passwords"]
    (api,) = model.apis
    assert api.invoke_url == blog.outputs["api_url"]
    urns = {r.urn for r in blog.run.registered}
    assert {route.urn for route in api.routes} <= urns and pool.urn in urns


def test_the_token_helper_prints_the_token_the_api_takes(blog, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", raising=False)
    monkeypatch.chdir(tmp_path)  # any folder: the state names everything
    assert cli_main(["token", "regularuser", "--state", str(blog.state_file)]) == 0
    token = capsys.readouterr().out.strip()
    assert jwt.decode(token, options={"verify_signature": False})["token_use"] == "id"
    assert call(blog.outputs["route_urls"]["GET /RegularUser"], token=token).status == 200
    assert cli_main(["token", "nobody", "--state", str(blog.state_file)]) == 2
    assert "no test user 'nobody'; the stack has: adminuser, regularuser" in capsys.readouterr().err


def test_passwords_are_generated_to_the_pools_policy_and_permanent(blog):
    for user, password in blog.outputs["test_user_passwords"].items():
        assert len(password) == 24 and set(password) & set("-_.+")
        status = blog.cognito.client.admin_get_user(UserPoolId=blog.outputs["user_pool_id"],
                                                    Username=user)["UserStatus"]
        assert status == "CONFIRMED"


def test_every_token_issued_runs_the_trigger_sign_in_and_refresh(blog):
    client = blog.outputs["app_client_id"]
    first = sign_in(blog, "adminuser")
    id_claims = jwt.decode(first["IdToken"], options={"verify_signature": False})
    assert id_claims["scope"] == f"admin-{client} regular-{client}"
    assert id_claims["cognito:groups"] == ["admin", "regular"]
    # tokenUse id (V1_0): the access token gets no route scope.
    access = jwt.decode(first["AccessToken"], options={"verify_signature": False})
    assert access["scope"] == "aws.cognito.signin.user.admin"
    # The app client's lifetimes (60 minutes) decide exp.
    assert id_claims["exp"] - id_claims["iat"] == 3600
    refreshed = blog.cognito.client.initiate_auth(
        ClientId=client, AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]})["AuthenticationResult"]
    again = jwt.decode(refreshed["IdToken"], options={"verify_signature": False})
    assert again["scope"] == id_claims["scope"] and again["jti"] != id_claims["jti"]


def test_the_gateway_takes_bearer_or_bare_tokens_and_only_under_its_stage(blog):
    token = sign_in(blog, "regularuser")["IdToken"]
    url = blog.outputs["route_urls"]["GET /RegularUser"]
    bare, bearer = call(url, token=token), call(url, token=f"Bearer {token}")
    assert (bare.status, bearer.status) == (200, 200)
    assert bearer.json() == {"message": "Hello from Regular User", "caller": "regularuser"}
    assert bearer.headers["apigw-requestid"]
    root = blog.outputs["api_url"].rsplit("/", 1)[0]
    for path in ("/RegularUser", "/Prod/RegularUser", "/Test/Nothing", "/Test"):
        answer = call(root + path, token=token)
        assert (answer.status, answer.body) == (404, b'{"message":"Not Found"}'), path
    # GET /RegularUser does not take HEAD (no ANY route): 404 with no body.
    assert call(url, method="HEAD", token=token).status == 404


def test_one_access_log_line_per_request_in_the_stages_format(blog):
    blog.log.truncate(0)
    blog.log.seek(0)
    url = blog.outputs["route_urls"]["GET /AdminUser"]
    call(url)
    call(url, token=sign_in(blog, "adminuser")["IdToken"])
    lines = [json.loads(line) for line in blog.log.getvalue().splitlines()]
    assert [(line["status"], line["routeKey"], line["authorizerError"]) for line in lines] == [
        ("401", "GET /AdminUser", "the Authorization header is missing"),
        ("200", "GET /AdminUser", "-")]
    sub = jwt.decode(sign_in(blog, "adminuser")["IdToken"],
                     options={"verify_signature": False})["sub"]
    assert lines[1]["sub"] == sub and lines[0]["sub"] == "-"
    assert lines[1]["path"] == "/Test/AdminUser" and lines[1]["ip"] == "127.0.0.1"


# A trigger that runs the real one and records the event Cognito sent it in a claim; and
# the route function replaced by the harness's ECHO, which shows what a function sees.
RECORDING_TRIGGER = """
import json
import real_handler
def handler(event, context):
    sent = json.loads(json.dumps(event))
    answer = real_handler.handler(event, context)
    claims = answer["response"]["claimsOverrideDetails"]["claimsToAddOrOverride"]
    claims["sent"] = json.dumps(sent)
    return answer
"""


@pytest.fixture(scope="module")
def instrumented(tmp_path_factory):
    trigger = archive("trigger")
    edits = [function_code("hello", {"handler.py": ECHO}),
             function_code("identity-pre-token", {
                 "handler.py": RECORDING_TRIGGER,
                 "real_handler.py": Path(trigger["handler.py"]).read_text(),
                 "scope_format.py": Path(trigger["scope_format.py"]).read_text()})]

    def edit(typ, name, inputs):
        for one in edits:
            inputs = one(typ, name, inputs)
        return inputs

    with started(blog_config(), tmp_path_factory.mktemp("logs"), edit=edit) as sandbox:
        yield sandbox


def test_the_trigger_gets_the_documented_v1_event(instrumented):
    outputs = instrumented.outputs
    claims = jwt.decode(sign_in(instrumented, "adminuser")["IdToken"],
                        options={"verify_signature": False})
    sent = json.loads(claims["sent"])
    assert sent == {
        "version": "1", "triggerSource": "TokenGeneration_Authentication", "region": "us-east-1",
        "userPoolId": outputs["user_pool_id"], "userName": "adminuser",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown",
                          "clientId": outputs["app_client_id"]},
        "request": {"userAttributes": {"sub": claims["sub"], "cognito:user_status": "CONFIRMED"},
                    "groupConfiguration": {"groupsToOverride": ["admin", "regular"],
                                           "iamRolesToOverride": [], "preferredRole": None}},
        "response": {"claimsOverrideDetails": None}}
    client = outputs["app_client_id"]
    assert claims["scope"] == f"admin-{client} regular-{client}"


def test_functions_run_warm_in_their_own_process_with_lambdas_environment(instrumented):
    token = sign_in(instrumented, "adminuser")["IdToken"]
    url = instrumented.outputs["route_urls"]["GET /AdminUser"]
    first, second = call(url, token=token).json(), call(url, token=token).json()
    assert first["pid"] == second["pid"] != os.getpid()  # warm: the same process again
    name = next(f.id for f in instrumented.run.of_type("aws:lambda/function:Function")
                if f.name == "hello")
    task_root = first["cwd"]
    assert Path(task_root).name == name and sorted(os.listdir(task_root)) == ["handler.py"]
    assert first["path"][0] == task_root
    assert not any("site-packages" in p or p.endswith("wt-sandbox") for p in first["path"])
    env = first["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name == first["function"]
    assert env["AWS_REGION"] == "us-east-1" and env["LAMBDA_TASK_ROOT"] == task_root
    assert env["_HANDLER"] == "handler.handler"
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PYTHONPATH"} & set(env)
    assert 0 < first["remaining"] <= 10_000  # the function's timeout (10 s)
    # The payload format 2.0 event, with the authorizer's claims as strings.
    event = first["event"]
    assert event["version"] == "2.0" and event["routeKey"] == "GET /AdminUser"
    assert event["rawPath"] == "/Test/AdminUser" and event["requestContext"]["stage"] == "Test"
    jwt_context = event["requestContext"]["authorizer"]["jwt"]
    assert jwt_context["claims"]["cognito:username"] == "adminuser"
    assert jwt_context["claims"]["cognito:groups"] == "[admin regular]"
    client = instrumented.outputs["app_client_id"]
    assert jwt_context["scopes"] == [f"admin-{client}", f"regular-{client}"]
    assert event["headers"]["authorization"] == token
