"""`python -m access verify` end to end, against the local sandbox: the program's own resources,
with Cognito in moto (found through boto3's own AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER) and
the local API Gateway. A gateway that answers wrongly is the program with one fault planted."""

from __future__ import annotations

import copy
import json
import os
import stat

import pytest
import yaml

from jwt_scoped.access.__main__ import main
from fixtures.stacks import NS, ROOT, blog_config, scaled_config
from jwt_scoped.sandbox.gateway import gateway_error

from sandbox_harness import change, started

FAST = ["--backoff", "0", "--timeout", "5"]
BLOG = ROOT / "Pulumi.dev.yaml"
ROUTE = "aws:apigatewayv2/route:Route"


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    """No AWS settings of this machine's: boto3 finds Cognito only where a test points it."""
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture(scope="module")
def blog(tmp_path_factory):
    """The dev stack in the sandbox; ``settling["left"]`` requests answer 503 first."""
    settling = {"left": 0}

    def intercept(request):
        if settling["left"] > 0:
            settling["left"] -= 1
            return gateway_error(503)
        return None

    with started(blog_config(), tmp_path_factory.mktemp("logs"), intercept=intercept) as sandbox:
        sandbox.settling = settling
        yield sandbox


@pytest.fixture
def cognito(blog, aws_env):
    aws_env.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", blog.cognito_endpoint)
    return blog


def run_verify(capsys, tmp_path, config_path, outputs, *extra):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    code = main(["verify", "--config", str(config_path), "--outputs", str(path), *FAST, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def verify_json(capsys, tmp_path, config_path, outputs, *extra):
    """(exit code, {(route, caller): outcome}, document) from ``verify --format json``."""
    code, out, err = run_verify(capsys, tmp_path, config_path, outputs, "--format", "json", *extra)
    assert err == ""
    document = json.loads(out)
    return code, {(o["route"], o["caller"]): o for o in document["outcomes"]}, document


def cells(outcomes) -> dict[tuple[str, str], tuple]:
    return {k: (o["expected"], o["actual"], o["ok"]) for k, o in outcomes.items()}


def stack_file(tmp_path, config: dict):
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def test_the_blog_stack_matches_the_plan_in_every_cell(cognito, capsys, tmp_path):
    code, outcomes, document = verify_json(capsys, tmp_path, BLOG, cognito.outputs)
    assert code == 0 and document["mismatches"] == 0
    assert cells(outcomes) == {
        ("GET /AdminUser", "(anonymous)"): (401, 401, True),
        ("GET /AdminUser", "adminuser"): (200, 200, True),
        ("GET /AdminUser", "regularuser"): (403, 403, True),
        ("GET /AdminUser", "(tampered)"): (401, 401, True),
        ("GET /AdminUser", "(other-token)"): (403, 403, True),  # adminuser's access token
        ("GET /RegularUser", "(anonymous)"): (401, 401, True),
        ("GET /RegularUser", "adminuser"): (200, 200, True),
        ("GET /RegularUser", "regularuser"): (200, 200, True),
        ("GET /RegularUser", "(tampered)"): (401, 401, True),
        ("GET /RegularUser", "(other-token)"): (403, 403, True),
    }
    # Each 401 shows why, from the www-authenticate header: the signature check really ran.
    assert outcomes[("GET /AdminUser", "(tampered)")]["reason"] == "the token signature is invalid"
    assert outcomes[("GET /AdminUser", "(anonymous)")]["reason"] == (
        "the Authorization header is missing")


def test_the_table_report_reads_row_by_row(cognito, capsys, tmp_path):
    code, out, err = run_verify(capsys, tmp_path, BLOG, cognito.outputs)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:3] == [
        f"Verifying {cognito.outputs['api_url']} with id tokens: 2 routes, 2 users signed in",
        "(tampered) is adminuser's id token with one signature character changed",
        "(other-token) is adminuser's access token, which carries no group scope"]
    assert "GET /AdminUser    (tampered)     401       401     ok        the token signature is " \
           "invalid" in lines
    assert lines[-1] == "All 10 cells match."


def test_a_gateway_that_admits_regularuser_to_adminuser_fails_naming_the_cell(
        aws_env, capsys, tmp_path):
    """The program with one fault planted: /AdminUser also accepts the regular scope."""
    def also_regular(name, inputs):
        if inputs["routeKey"] != "GET /AdminUser":
            return inputs
        client = inputs["authorizationScopes"][0].removeprefix("admin-")
        return {**inputs, "authorizationScopes": [f"admin-{client}", f"regular-{client}"]}

    with started(blog_config(), tmp_path / "logs", edit=change(ROUTE, also_regular)) as wrong:
        aws_env.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", wrong.cognito_endpoint)
        code, out, err = run_verify(capsys, tmp_path, BLOG, wrong.outputs)
    assert code == 1 and err == ""
    assert out.splitlines()[-2:] == ["1 mismatch:",
                                     "  regularuser  GET /AdminUser  expected 403, got 200"]


def test_access_tokens_path_parameters_any_public_signed_in_routes_and_cors(
        aws_env, capsys, tmp_path):
    config = scaled_config()  # tokenUse access, {id}, {proxy+}, ANY, public, signed-in, CORS
    path = stack_file(tmp_path, config)
    with started(config, tmp_path / "logs") as scaled:
        aws_env.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", scaled.cognito_endpoint)
        code, outcomes, document = verify_json(capsys, tmp_path, path, scaled.outputs)
    assert code == 0, document
    got = cells(outcomes)
    assert got[("POST /documents/{id}", "erin")] == (200, 200, True)
    assert got[("ANY /admin/{proxy+}", "nobody")] == (403, 403, True)
    assert got[("GET /AdminUser", "(other-token)")] == (403, 403, True)  # alice's ID token
    assert got[("GET /me", "(other-token)")] == (200, 200, True)  # any valid token
    assert got[("GET /health", "(anonymous)")] == (200, 200, True)
    assert got[("GET /health", "(tampered)")] == (200, 200, True)  # no authorizer runs
    assert got[("GET /me", "(tampered)")] == (401, 401, True)
    # A browser's preflight of the ANY route reaches the components' OPTIONS route, not the
    # authorizer; the others API Gateway answers itself.
    assert got[("ANY /admin/{proxy+}", "(preflight)")] == (204, 204, True)
    assert len(outcomes) == 6 * 7 + 6  # 6 routes x 7 callers, and a preflight per route


def test_a_wrong_password_is_a_clear_error(cognito, capsys, tmp_path):
    outputs = copy.deepcopy(cognito.outputs)
    outputs["test_user_passwords"]["regularuser"] = "not-the-password"
    code, out, err = run_verify(capsys, tmp_path, BLOG, outputs)
    assert code == 2 and out == ""
    assert err.startswith("error: cannot sign in 'regularuser': Cognito says 'Incorrect username "
                          "or password.' (NotAuthorizedException); wrong password?")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_an_unreachable_endpoint_is_a_clear_error_after_bounded_tries(cognito, capsys, tmp_path):
    outputs = {**cognito.outputs, "api_url": f"http://127.0.0.1:{free_port()}/Test"}
    code, out, err = run_verify(capsys, tmp_path, BLOG, outputs, "--attempts", "2")
    assert code == 2
    assert err.startswith(f"error: cannot reach {outputs['api_url']}/AdminUser: ")
    assert err.rstrip().endswith("(after 2 tries)") and err.count("\n") == 1


def test_an_unreachable_cognito_is_a_clear_error(blog, aws_env, capsys, tmp_path):
    aws_env.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", f"http://127.0.0.1:{free_port()}")
    code, _, err = run_verify(capsys, tmp_path, BLOG, blog.outputs, "--attempts", "1")
    assert code == 2
    assert err.startswith("error: cannot reach Cognito to sign in 'adminuser': Could not connect")
    assert err.count("\n") == 1


def test_a_stage_that_is_still_settling_is_retried(cognito, capsys, tmp_path):
    cognito.settling["left"] = 3
    code, out, _ = run_verify(capsys, tmp_path, BLOG, cognito.outputs, "--attempts", "4")
    assert code == 0, out
    assert cognito.settling["left"] == 0


def test_a_stage_that_never_settles_reports_its_status_after_the_last_try(cognito, capsys,
                                                                          tmp_path):
    cognito.settling["left"] = 10**6
    try:
        code, out, _ = run_verify(capsys, tmp_path, BLOG, cognito.outputs, "--attempts", "2")
    finally:
        answered, cognito.settling["left"] = 10**6 - cognito.settling["left"], 0
    assert code == 1
    assert answered == 10 * 2  # every cell, twice
    assert "  adminuser      GET /AdminUser    expected 200, got 503" in out.splitlines()


def test_outputs_missing_a_key_is_a_clear_error(cognito, capsys, tmp_path):
    outputs = {k: v for k, v in cognito.outputs.items() if k != "test_user_passwords"}
    code, out, err = run_verify(capsys, tmp_path, BLOG, outputs)
    assert code == 2 and out == ""
    assert err.startswith("error: the stack outputs lack 'test_user_passwords' (they have: "
                          "api_url, app_client_id,")


def fake_pulumi(bin_dir, outputs: dict):
    """A `pulumi` on PATH that records its arguments and prints ``outputs``."""
    bin_dir.mkdir()
    (bin_dir / "outputs.json").write_text(json.dumps(outputs))
    script = bin_dir / "pulumi"
    script.write_text(f'#!/bin/sh\necho "$@" > "{bin_dir}/args"\ncat "{bin_dir}/outputs.json"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_outputs_come_from_the_pulumi_cli_for_the_named_stack(cognito, capsys, tmp_path):
    fake_pulumi(tmp_path / "bin", cognito.outputs)
    os.environ["PATH"] = f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"
    try:
        code = main(["verify", "--stack", "dev", *FAST])
    finally:
        os.environ["PATH"] = os.environ["PATH"].split(os.pathsep, 1)[1]
    assert code == 0, capsys.readouterr()
    assert (tmp_path / "bin" / "args").read_text().split() == [
        "stack", "output", "--json", "--show-secrets", "--stack", "dev"]


def test_without_the_pulumi_cli_the_error_says_what_to_do(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pulumi here
    assert main(["verify", "--stack", "dev"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the Pulumi CLI is not on PATH") and "--outputs FILE" in err


def test_a_deployment_from_another_config_is_refused_before_signing_in(cognito, capsys,
                                                                       tmp_path):
    other = copy.deepcopy(blog_config())
    other[f"{NS}:tokenUse"] = "access"
    code, _, err = run_verify(capsys, tmp_path, stack_file(tmp_path, other), cognito.outputs)
    assert code == 2
    assert "the config says tokenUse 'access' but the stack was deployed with 'id'" in err


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (for 'unreachable')."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
