"""One wiring fault at a time, planted in the resources the real program registers (under the
mocks, before the local provider creates them), and the sandbox answering as AWS would:

- API Gateway may not invoke a route's function (no ``aws.lambda.Permission``): that route's
  authorized calls get 500, everything in front of the integration is unchanged;
- a route registered without its scopes: any valid token passes it (the 403 becomes a 200);
- an authorizer with the wrong audience: every token is refused with 401;
- a trigger archive without ``scope_format.py``, a trigger Cognito may not invoke, one that
  raises or one that times out: nobody can sign in (``UserLambdaValidationException``);
- an integration left at API Gateway's default payload format (1.0), which the components never
  register: the sandbox says it does not serve it, and its routes answer 500; a stage without
  ``autoDeploy``: nothing is served.
"""

from __future__ import annotations

import io
import json

import pulumi
import pytest
from botocore.exceptions import ClientError

from jwt_scoped.sandbox.gateway import NO_PERMISSION

from fixtures.stacks import blog_config
from sandbox_harness import BLOG_MATRIX, call, change, drop, function_code, sign_in, started, statuses, verify

FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
ROUTE = "aws:apigatewayv2/route:Route"
TRIGGER = "identity-pre-token"


def faulty(tmp_path, edit, **options):
    return started(blog_config(), tmp_path / "sandboxes", edit=edit, **options)


def matrix_with(tmp_path, capsys, monkeypatch, edit, **options):
    """verify's exit code, the cells whose status differs from the blog's matrix, the table."""
    with faulty(tmp_path, edit, **options) as sandbox:
        code, table, out = verify(sandbox, blog_config(), tmp_path, capsys, monkeypatch)
    changed = {cell: status for cell, status in statuses(table).items()
               if BLOG_MATRIX[cell] != status}
    return code, changed, table


def test_without_api_gateways_invoke_permission_the_route_answers_500(tmp_path, capsys,
                                                                      monkeypatch):
    log = io.StringIO()
    edit = drop(PERMISSION, lambda i: i["principal"] == "apigateway.amazonaws.com"
                and ":function:hello" in i["function"])  # permissions name functions by ARN
    code, changed, _ = matrix_with(tmp_path, capsys, monkeypatch, edit, access_log=log)
    # The authorizer still answers first: only the calls that reach the function change.
    assert (code, changed) == (1, {cell: 500 for cell, status in BLOG_MATRIX.items()
                                   if status == 200})
    errors = {json.loads(line)["integrationError"] for line in log.getvalue().splitlines()
              if json.loads(line)["status"] == "500"}
    assert errors == {NO_PERMISSION}


def test_a_route_without_its_scopes_admits_every_signed_in_user(tmp_path, capsys, monkeypatch):
    edit = change(ROUTE, lambda name, i: {k: v for k, v in i.items()
                                          if k != "authorizationScopes"}
                  if i["routeKey"] == "GET /AdminUser" else i)
    code, changed, _ = matrix_with(tmp_path, capsys, monkeypatch, edit)
    # ... and any valid token at all: adminuser's access token, which carries no scope, too.
    assert (code, changed) == (1, {("GET /AdminUser", "regularuser"): 200,
                                   ("GET /AdminUser", "(other-token)"): 200})


def test_an_authorizer_with_the_wrong_audience_refuses_every_token(tmp_path, capsys,
                                                                   monkeypatch):
    edit = change("aws:apigatewayv2/authorizer:Authorizer", lambda name, i: {
        **i, "jwtConfiguration": {**i["jwtConfiguration"], "audiences": ["another-client"]}})
    code, changed, table = matrix_with(tmp_path, capsys, monkeypatch, edit)
    assert code == 1
    assert changed == {cell: 401 for cell, status in BLOG_MATRIX.items() if status != 401}
    assert {" ".join(table[cell][3:]) for cell in changed} == {
        "the token does not have a valid audience"}


def test_a_route_registered_public_answers_anyone(tmp_path, capsys, monkeypatch):
    # authorizationType NONE, no authorizer, no scopes: what a public route is (issue 11).
    public = {"GET /AdminUser"}
    edit = change(ROUTE, lambda name, i: {
        k: v for k, v in {**i, "authorizationType": "NONE"}.items()
        if k not in ("authorizerId", "authorizationScopes")} if i["routeKey"] in public else i)
    code, changed, _ = matrix_with(tmp_path, capsys, monkeypatch, edit)
    # No authorizer runs: no token, another user's token or a tampered one, all get through.
    assert (code, changed) == (1, {("GET /AdminUser", "(anonymous)"): 200,
                                   ("GET /AdminUser", "regularuser"): 200,
                                   ("GET /AdminUser", "(tampered)"): 200,
                                   ("GET /AdminUser", "(other-token)"): 200})


def _sign_in_error(sandbox, user="regularuser") -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        sign_in(sandbox, user)
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def test_a_trigger_archive_without_scope_format_stops_every_sign_in(tmp_path, capsys,
                                                                    monkeypatch):
    def without_scope_format(name, inputs):
        if name != TRIGGER:
            return inputs
        assets = {k: v for k, v in inputs["code"].assets.items() if k != "scope_format.py"}
        return {**inputs, "code": pulumi.AssetArchive(assets)}

    with faulty(tmp_path, change(FUNCTION, without_scope_format)) as sandbox:
        assert _sign_in_error(sandbox) == (
            "UserLambdaValidationException",
            "PreTokenGeneration failed with error Unable to import module 'handler': "
            "No module named 'scope_format'.")
        code, _, out = verify(sandbox, blog_config(), tmp_path, capsys, monkeypatch)
    assert code == 2 and "cannot sign in 'adminuser'" in out
    assert "UserLambdaValidationException" in out


def test_without_cognitos_invoke_permission_nobody_signs_in(tmp_path):
    edit = drop(PERMISSION, lambda i: i["principal"] == "cognito-idp.amazonaws.com")
    with faulty(tmp_path, edit) as sandbox:
        assert _sign_in_error(sandbox) == (
            "UserLambdaValidationException",
            "PreTokenGeneration invocation failed due to error AccessDeniedException.")


def test_a_raising_trigger_stops_sign_in_with_its_error(tmp_path):
    edit = function_code(TRIGGER, {"handler.py": "def handler(event, context):\n"
                                                 "    raise ValueError('no scopes today')\n"})
    with faulty(tmp_path, edit) as sandbox:
        assert _sign_in_error(sandbox) == ("UserLambdaValidationException",
                                           "PreTokenGeneration failed with error no scopes today.")


def test_a_trigger_that_times_out_stops_sign_in(tmp_path):
    def slow(name, inputs):
        if name != TRIGGER:
            return inputs
        return {**inputs, "timeout": 1, "code": pulumi.AssetArchive({"handler.py": pulumi.StringAsset(
            "import time\ndef handler(event, context):\n    time.sleep(30)\n")})}

    with faulty(tmp_path, change(FUNCTION, slow)) as sandbox:
        code, message = _sign_in_error(sandbox)
    assert code == "UserLambdaValidationException"
    assert message.startswith("PreTokenGeneration failed with error RequestId: ")
    assert message.endswith("Error: Task timed out after 1.00 seconds.")


def test_api_gateways_default_payload_format_is_named_as_not_served(tmp_path):
    edit = change("aws:apigatewayv2/integration:Integration", lambda name, i: {
        k: v for k, v in i.items() if k != "payloadFormatVersion"})
    with faulty(tmp_path, edit) as sandbox:
        token = sign_in(sandbox, "adminuser")["IdToken"]
        answer = call(sandbox.outputs["route_urls"]["GET /AdminUser"], token=token)
        warnings = sandbox.warnings()
    assert (answer.status, answer.body) == (500, b'{"message":"Internal Server Error"}')
    assert len(warnings) == 1 and "payload format 1.0 is not modelled" in warnings[0]


def test_a_stage_without_auto_deploy_serves_nothing(tmp_path, capsys, monkeypatch):
    edit = change("aws:apigatewayv2/stage:Stage", lambda name, i: {**i, "autoDeploy": False})
    with faulty(tmp_path, edit) as sandbox:
        answer = call(sandbox.outputs["route_urls"]["GET /AdminUser"])
        warnings = sandbox.warnings()
    assert (answer.status, answer.body) == (404, b'{"message":"Not Found"}')
    assert warnings == ["stage Test: no autoDeploy and no deployment, so it serves nothing (404), "
                        "as on AWS"]
