"""`jwt-scoped verify` end to end, against the local sandbox: the program's own resources, with
Cognito in moto and the local API Gateway, found through the state the sandbox writes (as
`pulumi stack export --show-secrets` would print it). A gateway that answers wrongly is the
program with one fault planted; a state that does not match is the state edited."""

from __future__ import annotations

import copy
import json
import os
import stat

import pytest
import yaml

from jwt_scoped.cli import main
from jwt_scoped.sandbox.gateway import gateway_error

from fixtures.stacks import NS, ROOT, blog_config, scaled_config, stack_file_config
from sandbox_harness import AWS_VARIABLES, change, started

FAST = ["--backoff", "0", "--timeout", "5"]
BLOG = ROOT / "Pulumi.dev.yaml"
ROUTE = "aws:apigatewayv2/route:Route"
USER = "aws:cognito/user:User"
STAGE = "aws:apigatewayv2/stage:Stage"


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    """No AWS settings of this machine's: boto3 finds Cognito only where the state points it."""
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in (*AWS_VARIABLES, "AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture(scope="module")
def blog(tmp_path_factory):
    """The dev stack (its file, CORS for the browser app included) in the sandbox;
    ``settling["left"]`` requests answer 503 first."""
    settling = {"left": 0}

    def intercept(request):
        if settling["left"] > 0:
            settling["left"] -= 1
            return gateway_error(503)
        return None

    with started(stack_file_config("dev"), tmp_path_factory.mktemp("sandboxes"),
                 intercept=intercept) as sandbox:
        sandbox.settling = settling
        yield sandbox


@pytest.fixture
def cognito(blog, aws_env):
    return blog


def state_of(sandbox) -> dict:
    return json.loads(sandbox.state_file.read_text())


def resource(document: dict, typ: str, name: str) -> dict:
    return next(r for r in document["deployment"]["resources"]
                if r["type"] == typ and r["urn"].endswith(f"::{name}"))


def run_verify(capsys, tmp_path, config_path, state: dict, *extra):
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    code = main(["verify", "--config", str(config_path), "--state", str(path), "-C", str(ROOT),
                 *FAST, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def verify_json(capsys, tmp_path, config_path, state, *extra):
    """(exit code, {(route, caller): outcome}, document) from ``verify --format json``."""
    code, out, err = run_verify(capsys, tmp_path, config_path, state, "--format", "json", *extra)
    assert err == ""
    document = json.loads(out)
    return code, {(o["route"], o["caller"]): o for o in document["outcomes"]}, document


def cells(outcomes) -> dict[tuple[str, str], tuple]:
    return {k: (o["expected"], o["actual"], o["ok"]) for k, o in outcomes.items()}


def stack_file(tmp_path, config: dict):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def test_the_blog_stack_matches_the_plan_in_every_cell(cognito, capsys, tmp_path):
    code, outcomes, document = verify_json(capsys, tmp_path, BLOG, state_of(cognito))
    assert code == 0 and document["mismatches"] == 0
    assert document["api_urls"] == [cognito.outputs["api_url"]]
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
        # The browser app's origin (corsOrigins): API Gateway answers each route's preflight.
        ("GET /AdminUser", "(preflight)"): (204, 204, True),
        ("GET /RegularUser", "(preflight)"): (204, 204, True),
    }
    # Each 401 shows why, from the www-authenticate header: the signature check really ran.
    assert outcomes[("GET /AdminUser", "(tampered)")]["reason"] == "the token signature is invalid"
    assert outcomes[("GET /AdminUser", "(anonymous)")]["reason"] == (
        "the Authorization header is missing")


def test_the_table_report_reads_row_by_row(cognito, capsys, tmp_path):
    code, out, err = run_verify(capsys, tmp_path, BLOG, state_of(cognito))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:3] == [
        f"Verifying {cognito.outputs['api_url']} with id tokens: 2 routes, 2 users signed in "
        "with their passwords (InitiateAuth)",
        "(tampered) is adminuser's id token with one signature character changed",
        "(other-token) is adminuser's access token, which carries no group scope"]
    assert "GET /AdminUser    (tampered)     401       401     ok        the token signature is " \
           "invalid" in lines
    assert lines[3] == ("(preflight) is a browser's CORS preflight (OPTIONS, no token) for the "
                        "route's request")
    assert lines[-1] == "All 12 cells match."


def test_a_gateway_that_admits_regularuser_to_adminuser_fails_naming_the_cell(
        aws_env, capsys, tmp_path):
    """The program with one fault planted: /AdminUser also accepts the regular scope."""
    def also_regular(name, inputs):
        if inputs["routeKey"] != "GET /AdminUser":
            return inputs
        client = inputs["authorizationScopes"][0].removeprefix("admin-")
        return {**inputs, "authorizationScopes": [f"admin-{client}", f"regular-{client}"]}

    with started(stack_file_config("dev"), tmp_path / "sandboxes",
                 edit=change(ROUTE, also_regular)) as wrong:
        code, out, err = run_verify(capsys, tmp_path, BLOG, state_of(wrong))
    assert code == 1 and err == ""
    assert out.splitlines()[-2:] == ["1 mismatch:",
                                     "  regularuser  GET /AdminUser  expected 403, got 200"]
    # The state shows the difference too, and verify says so before the cells.
    assert "! GET /AdminUser is deployed admitting admin, regular (groups); the plan admits " \
           "admin (groups)" in out.splitlines()


def test_access_tokens_path_parameters_any_public_signed_in_routes_and_cors(
        aws_env, capsys, tmp_path):
    config = scaled_config()  # tokenUse access, {id}, {proxy+}, ANY, public, signed-in, CORS
    path = stack_file(tmp_path, config)
    with started(config, tmp_path / "sandboxes") as scaled:
        code, outcomes, document = verify_json(capsys, tmp_path, path, state_of(scaled))
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
    state = state_of(cognito)
    resource(state, USER, "identity-user-regularuser")["outputs"]["password"] = "not-the-password"
    code, out, err = run_verify(capsys, tmp_path, BLOG, state)
    assert code == 2 and out == ""
    assert err.startswith("error: cannot sign in 'regularuser': Cognito says 'Incorrect username "
                          "or password.' (NotAuthorizedException); wrong password?")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_an_unreachable_endpoint_is_a_clear_error_after_bounded_tries(cognito, capsys, tmp_path):
    state = state_of(cognito)
    url = f"http://127.0.0.1:{free_port()}/Test"
    resource(state, STAGE, "api-stage")["outputs"]["invokeUrl"] = url
    code, out, err = run_verify(capsys, tmp_path, BLOG, state, "--attempts", "2")
    assert code == 2
    assert err.startswith(f"error: cannot reach {url}/AdminUser: ")
    assert err.rstrip().endswith("(after 2 tries)") and err.count("\n") == 1


def test_the_states_own_cognito_endpoint_is_used(cognito, capsys, tmp_path):
    """A sandbox's state names its local Cognito, so no environment variable is needed; one
    that names another endpoint explicitly still wins."""
    state = state_of(cognito)
    state["sandbox"]["cognito_endpoint"] = f"http://127.0.0.1:{free_port()}"
    code, _, err = run_verify(capsys, tmp_path, BLOG, state, "--attempts", "1")
    assert code == 2
    assert err.startswith("error: cannot reach Cognito to sign in 'adminuser': Could not connect")
    assert err.count("\n") == 1


def test_an_endpoint_named_in_the_environment_wins_over_the_states(cognito, capsys, tmp_path):
    cognito_env = f"http://127.0.0.1:{free_port()}"
    os.environ["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"] = cognito_env
    try:
        code, _, err = run_verify(capsys, tmp_path, BLOG, state_of(cognito), "--attempts", "1")
    finally:
        del os.environ["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"]
    assert code == 2 and "cannot reach Cognito" in err and str(cognito_env.rsplit(":", 1)[1]) in err


def test_a_stage_that_is_still_settling_is_retried(cognito, capsys, tmp_path):
    cognito.settling["left"] = 3
    code, out, _ = run_verify(capsys, tmp_path, BLOG, state_of(cognito), "--attempts", "4")
    assert code == 0, out
    assert cognito.settling["left"] == 0


def test_a_stage_that_never_settles_reports_its_status_after_the_last_try(cognito, capsys,
                                                                          tmp_path):
    cognito.settling["left"] = 10**6
    try:
        code, out, _ = run_verify(capsys, tmp_path, BLOG, state_of(cognito), "--attempts", "2")
    finally:
        answered, cognito.settling["left"] = 10**6 - cognito.settling["left"], 0
    assert code == 1
    assert answered == 12 * 2  # every cell (10 calls and 2 preflights), twice
    assert "  adminuser      GET /AdminUser    expected 200, got 503" in out.splitlines()


def test_a_state_without_a_planned_user_is_a_clear_error(cognito, capsys, tmp_path):
    state = state_of(cognito)
    state["deployment"]["resources"].remove(resource(state, USER, "identity-user-regularuser"))
    code, out, err = run_verify(capsys, tmp_path, BLOG, state)
    assert code == 2 and out == ""
    assert err.startswith("error: the deployed stack does not match the plan: test user "
                          "regularuser is not deployed")


def fake_pulumi(bin_dir, state: dict):
    """A `pulumi` on PATH that records its arguments and prints ``state``."""
    bin_dir.mkdir()
    (bin_dir / "state.json").write_text(json.dumps(state))
    script = bin_dir / "pulumi"
    script.write_text(f'#!/bin/sh\necho "$@" > "{bin_dir}/args"\ncat "{bin_dir}/state.json"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_the_state_comes_from_the_pulumi_cli_for_the_named_stack(cognito, capsys, tmp_path):
    fake_pulumi(tmp_path / "bin", state_of(cognito))
    os.environ["PATH"] = f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"
    try:
        code = main(["verify", "--stack", "dev", "-C", str(ROOT), *FAST])
    finally:
        os.environ["PATH"] = os.environ["PATH"].split(os.pathsep, 1)[1]
    assert code == 0, capsys.readouterr()
    assert (tmp_path / "bin" / "args").read_text().split() == [
        "stack", "export", "--show-secrets", "--stack", "dev"]


def test_without_the_pulumi_cli_the_error_says_what_to_do(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pulumi here
    assert main(["verify", "--stack", "dev", "-C", str(ROOT)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the Pulumi CLI is not on PATH") and "--state FILE" in err


def test_a_deployment_from_another_config_is_refused_before_signing_in(cognito, capsys,
                                                                       tmp_path):
    other = copy.deepcopy(blog_config())
    other[f"{NS}:tokenUse"] = "access"
    code, _, err = run_verify(capsys, tmp_path, stack_file(tmp_path, other), state_of(cognito))
    assert code == 2
    assert ("the plan puts the scopes in the access token but the deployed pool writes them "
            "into the id token") in err


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (for 'unreachable')."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
