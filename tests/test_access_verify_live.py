"""`python -m access verify` end to end, on this machine: moto in server mode stands in for
Cognito (found through boto3's own AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER) and a local
HTTP server for API Gateway (see access_standins.py: it checks signatures against moto's keys and
enforces the route scopes the real trigger would grant)."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import stat

import pytest
import yaml

from access.__main__ import main
from access.stackfile import load_settings, read_stack_config
from offline.stacks import NS, ROOT, scaled_config

from access_standins import free_port, gateway_for, moto_server, seed_stack

FAST = ["--backoff", "0", "--timeout", "5"]


@pytest.fixture(scope="module")
def moto_url():
    with moto_server() as url:
        yield url


@pytest.fixture
def cognito(moto_url, monkeypatch, tmp_path):
    """boto3 pointed at moto by its standard variable, and nothing else of the environment's."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", moto_url)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    return moto_url


@contextlib.contextmanager
def deployed(moto_url, config_path, **gateway_options):
    """The stack of ``config_path`` 'deployed' to the stand-ins; yields (gateway, outputs)."""
    settings = load_settings(config_path)
    region = read_stack_config(config_path).other.get("aws:region", "us-east-1")
    seeded = seed_stack(moto_url, settings, region)
    gateway = gateway_for(settings, seeded, moto_url, **gateway_options)
    try:
        yield gateway, gateway.outputs(seeded)
    finally:
        gateway.stop()


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


BLOG = ROOT / "Pulumi.dev.yaml"


def test_the_blog_stack_matches_the_plan_in_every_cell(cognito, capsys, tmp_path):
    with deployed(cognito, BLOG) as (gateway, outputs):
        code, outcomes, document = verify_json(capsys, tmp_path, BLOG, outputs)
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
    assert gateway.token_uses == {"id", "access"}


def test_the_table_report_reads_row_by_row(cognito, capsys, tmp_path):
    with deployed(cognito, BLOG) as (_, outputs):
        code, out, err = run_verify(capsys, tmp_path, BLOG, outputs)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:3] == [
        f"Verifying {outputs['api_url']} with id tokens: 2 routes, 2 users signed in",
        "(tampered) is adminuser's id token with one signature character changed",
        "(other-token) is adminuser's access token, which carries no group scope"]
    assert "GET /AdminUser    (tampered)     401       401     ok        the token signature is " \
           "invalid" in lines
    assert lines[-1] == "All 10 cells match."


def test_a_gateway_that_admits_regularuser_to_adminuser_fails_naming_the_cell(
        cognito, capsys, tmp_path):
    settings = load_settings(BLOG)
    with deployed(cognito, BLOG) as (_, outputs):
        client = outputs["app_client_id"]
    # The same pool, behind a gateway whose /AdminUser route also accepts the regular scope.
    wrong = gateway_for(settings, outputs, cognito,
                        scopes={"GET /AdminUser": [f"admin-{client}", f"regular-{client}"]})
    try:
        code, out, err = run_verify(capsys, tmp_path, BLOG, wrong.outputs(outputs))
    finally:
        wrong.stop()
    assert code == 1 and err == ""
    assert out.splitlines()[-2:] == ["1 mismatch:",
                                     "  regularuser  GET /AdminUser  expected 403, got 200"]


def test_access_tokens_path_parameters_any_public_and_signed_in_routes(cognito, capsys, tmp_path):
    config = scaled_config()  # tokenUse access, {id}, {proxy+}, ANY, public, signed-in, "nobody"
    del config[f"{NS}:corsOrigins"]  # this stand-in answers no preflights; the sandbox does
    path = tmp_path / "Pulumi.scaled.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    with deployed(cognito, path) as (gateway, outputs):
        code, outcomes, document = verify_json(capsys, tmp_path, path, outputs)
    assert code == 0, document
    assert gateway.token_uses == {"access", "id"}
    got = cells(outcomes)
    assert got[("POST /documents/{id}", "erin")] == (200, 200, True)
    assert got[("ANY /admin/{proxy+}", "nobody")] == (403, 403, True)
    assert got[("GET /AdminUser", "(other-token)")] == (403, 403, True)  # alice's ID token
    assert got[("GET /me", "(other-token)")] == (200, 200, True)  # any valid token
    assert got[("GET /health", "(anonymous)")] == (200, 200, True)
    assert got[("GET /health", "(tampered)")] == (200, 200, True)  # no authorizer runs
    assert got[("GET /me", "(tampered)")] == (401, 401, True)
    assert len(outcomes) == 6 * 7  # 6 routes x (anonymous, 4 users, tampered, other token)


def test_a_wrong_password_is_a_clear_error(cognito, capsys, tmp_path):
    with deployed(cognito, BLOG) as (gateway, outputs):
        outputs["test_user_passwords"]["regularuser"] = "not-the-password"
        code, out, err = run_verify(capsys, tmp_path, BLOG, outputs)
    assert code == 2 and out == ""
    assert err.startswith("error: cannot sign in 'regularuser': Cognito says 'Incorrect username "
                          "or password.' (NotAuthorizedException); wrong password?")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert gateway.requests == 0  # nothing is called before every user is signed in


def test_an_unreachable_endpoint_is_a_clear_error_after_bounded_tries(cognito, capsys, tmp_path):
    with deployed(cognito, BLOG) as (_, outputs):
        pass  # the gateway is gone
    outputs["api_url"] = f"http://127.0.0.1:{free_port()}/Test"
    code, out, err = run_verify(capsys, tmp_path, BLOG, outputs, "--attempts", "2")
    assert code == 2
    assert err.startswith(f"error: cannot reach {outputs['api_url']}/AdminUser: ")
    assert err.rstrip().endswith("(after 2 tries)") and err.count("\n") == 1


def test_an_unreachable_cognito_is_a_clear_error(cognito, capsys, tmp_path, monkeypatch):
    with deployed(cognito, BLOG) as (gateway, outputs):
        monkeypatch.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
                           f"http://127.0.0.1:{free_port()}")
        code, _, err = run_verify(capsys, tmp_path, BLOG, outputs, "--attempts", "1")
    assert code == 2 and gateway.requests == 0
    assert err.startswith("error: cannot reach Cognito to sign in 'adminuser': Could not connect")
    assert err.count("\n") == 1


def test_a_stage_that_is_still_settling_is_retried(cognito, capsys, tmp_path):
    with deployed(cognito, BLOG, fail_first=3) as (gateway, outputs):
        code, out, _ = run_verify(capsys, tmp_path, BLOG, outputs, "--attempts", "4")
    assert code == 0, out
    assert gateway.requests == 10 + 3


def test_a_stage_that_never_settles_reports_its_status_after_the_last_try(cognito, capsys, tmp_path):
    with deployed(cognito, BLOG, fail_first=10**6) as (gateway, outputs):
        code, out, _ = run_verify(capsys, tmp_path, BLOG, outputs, "--attempts", "2")
    assert code == 1
    assert gateway.requests == 10 * 2
    assert "  adminuser      GET /AdminUser    expected 200, got 503" in out.splitlines()


def test_outputs_missing_a_key_is_a_clear_error(cognito, capsys, tmp_path):
    with deployed(cognito, BLOG) as (_, outputs):
        del outputs["test_user_passwords"]
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


def test_outputs_come_from_the_pulumi_cli_for_the_named_stack(cognito, capsys, tmp_path,
                                                              monkeypatch):
    with deployed(cognito, BLOG) as (_, outputs):
        fake_pulumi(tmp_path / "bin", outputs)
        monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
        code = main(["verify", "--stack", "dev", *FAST])
    assert code == 0, capsys.readouterr()
    assert (tmp_path / "bin" / "args").read_text().split() == [
        "stack", "output", "--json", "--show-secrets", "--stack", "dev"]


def test_without_the_pulumi_cli_the_error_says_what_to_do(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pulumi here
    assert main(["verify", "--stack", "dev"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the Pulumi CLI is not on PATH") and "--outputs FILE" in err


def test_a_deployment_from_another_config_is_refused_before_signing_in(cognito, capsys, tmp_path):
    other = copy.deepcopy(yaml.safe_load(BLOG.read_text()))
    other["config"][f"{NS}:tokenUse"] = "access"
    path = tmp_path / "Pulumi.other.yaml"
    path.write_text(yaml.safe_dump(other))
    with deployed(cognito, BLOG) as (gateway, outputs):
        code, _, err = run_verify(capsys, tmp_path, path, outputs)
    assert code == 2 and gateway.requests == 0
    assert "the config says tokenUse 'access' but the stack was deployed with 'id'" in err
