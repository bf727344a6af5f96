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


def rows(out: str) -> dict[tuple[str, str], list[str]]:
    """(route, caller) -> [expected, actual, result, reason...] from the report."""
    table = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 6 and parts[4].isdigit():
            table[(f"{parts[0]} {parts[1]}", parts[2])] = parts[3:]
    return table


BLOG = ROOT / "Pulumi.dev.yaml"


def test_the_blog_stack_matches_the_plan_in_every_cell(cognito, capsys, tmp_path):
    with deployed(cognito, BLOG) as (gateway, outputs):
        code, out, err = run_verify(capsys, tmp_path, BLOG, outputs)
    assert (code, err) == (0, "")
    table = rows(out)
    assert {k: v[:3] for k, v in table.items()} == {
        ("GET /AdminUser", "(anonymous)"): ["401", "401", "ok"],
        ("GET /AdminUser", "adminuser"): ["200", "200", "ok"],
        ("GET /AdminUser", "regularuser"): ["403", "403", "ok"],
        ("GET /AdminUser", "(tampered)"): ["401", "401", "ok"],
        ("GET /RegularUser", "(anonymous)"): ["401", "401", "ok"],
        ("GET /RegularUser", "adminuser"): ["200", "200", "ok"],
        ("GET /RegularUser", "regularuser"): ["200", "200", "ok"],
        ("GET /RegularUser", "(tampered)"): ["401", "401", "ok"],
    }
    # Each 401 shows why, from the www-authenticate header: the signature check really ran.
    assert " ".join(table[("GET /AdminUser", "(tampered)")][3:]) == "the token signature is invalid"
    assert " ".join(table[("GET /AdminUser", "(anonymous)")][3:]) == (
        "the Authorization header is missing")
    assert out.rstrip().endswith("All 8 cells match.")
    assert gateway.token_uses == {"id"}


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
    assert rows(out)[("GET /AdminUser", "regularuser")][:3] == ["403", "200", "MISMATCH"]
    assert out.splitlines()[-2:] == ["1 mismatch:",
                                     "  regularuser  GET /AdminUser  expected 403, got 200"]


def test_access_tokens_path_parameters_any_and_users_without_groups(cognito, capsys, tmp_path):
    config = scaled_config()  # tokenUse access, {id}, {proxy+}, ANY, a user "nobody"
    path = tmp_path / "Pulumi.scaled.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    with deployed(cognito, path) as (gateway, outputs):
        code, out, err = run_verify(capsys, tmp_path, path, outputs)
    assert (code, err) == (0, ""), out
    assert gateway.token_uses == {"access"}
    table = rows(out)
    assert table[("POST /documents/{id}", "erin")][:3] == ["200", "200", "ok"]
    assert table[("ANY /admin/{proxy+}", "nobody")][:3] == ["403", "403", "ok"]
    assert "All 24 cells match." in out  # 4 routes x (anonymous, 4 users, tampered)


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
    assert gateway.requests == 8 + 3


def test_a_stage_that_never_settles_reports_its_status_after_the_last_try(cognito, capsys, tmp_path):
    with deployed(cognito, BLOG, fail_first=10**6) as (gateway, outputs):
        code, out, _ = run_verify(capsys, tmp_path, BLOG, outputs, "--attempts", "2")
    assert code == 1
    assert gateway.requests == 8 * 2
    assert "  adminuser    GET /AdminUser    expected 200, got 503" in out.splitlines()


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
