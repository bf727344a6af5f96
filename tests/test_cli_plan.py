"""`python -m access plan` as a user runs it: stack files in, text out, exit codes."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
import yaml

from jwt_scoped.access.__main__ import main
from jwt_scoped.access.stackfile import FUNCTIONS_DIR, read_stack_config
from fixtures.stacks import NS, ROOT, blog_config
from program.config import ConfigError, available_functions, parse_settings


def write(path, config):
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def test_plan_for_the_dev_stack_reads_pulumi_dev_yaml(capsys):
    assert main(["plan", "--stack", "dev"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Access plan for Pulumi.dev.yaml (token: id, stage: Test)")
    assert "GET /AdminUser    200        403          401" in out


@pytest.mark.parametrize("fmt", ["table", "markdown", "json"])
def test_each_format(capsys, fmt):
    assert main(["plan", "--stack", "dev", "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        assert json.loads(out)["source"] == "Pulumi.dev.yaml"
    elif fmt == "markdown":
        assert "| `GET /RegularUser` | 200 | 200 | 401 |" in out
    else:
        assert "GET /RegularUser  200        200          401" in out


def test_against_another_config_prints_only_the_changes(tmp_path, capsys):
    changed = copy.deepcopy(blog_config())
    changed[f"{NS}:routes"][0]["groups"] = ["admin", "regular"]
    head = write(tmp_path / "Pulumi.dev.yaml", changed)
    assert main(["plan", "--config", str(head), "--against", str(ROOT / "Pulumi.dev.yaml")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "  regularuser  GET /AdminUser  403 -> 200" in lines
    assert not any("GET /RegularUser" in line for line in lines)  # unchanged: not shown


def test_a_config_error_is_the_programs_message_on_stderr_with_exit_2(tmp_path, capsys):
    bad = copy.deepcopy(blog_config())
    bad[f"{NS}:routes"][0]["groups"] = ["admn"]
    path = write(tmp_path / "Pulumi.bad.yaml", bad)
    with pytest.raises(ConfigError) as expected:
        parse_settings(read_stack_config(path).project, functions=available_functions(FUNCTIONS_DIR))
    assert main(["plan", "--config", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"error: {path}: {expected.value}\n"
    assert "unknown group 'admn' (did you mean 'admin'?)" in captured.err


def test_a_missing_stack_file_is_one_line(capsys):
    assert main(["plan", "--stack", "nosuchstack"]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: no stack 'nosuchstack': there is no Pulumi.nosuchstack.yaml in {ROOT}; "
                   "stacks with a file: dev (or pass --config FILE)\n")
    assert err.count("\n") == 1


def test_a_bad_against_file_names_that_file(tmp_path, capsys):
    bad = copy.deepcopy(blog_config())
    bad[f"{NS}:tokenUse"] = "both"
    path = write(tmp_path / "base.yaml", bad)
    assert main(["plan", "--stack", "dev", "--against", str(path)]) == 2
    assert f"error: {path}: invalid stack config" in capsys.readouterr().err


def test_stack_or_config_is_required():
    with pytest.raises(SystemExit) as raised:
        main(["plan"])
    assert raised.value.code == 2


def test_runs_as_a_module_without_aws_credentials_or_the_aws_sdk():
    env = {"PATH": "/usr/bin:/bin", "AWS_EC2_METADATA_DISABLED": "true"}
    done = subprocess.run([sys.executable, "-m", "access", "plan", "--stack", "dev", "--format",
                           "json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["schema"] == "jwt-scoped-api/access-plan"
    # plan never loads the AWS SDK
    check = subprocess.run([sys.executable, "-c", "import sys, access.__main__ as m; "
                            "m.main(['plan', '--stack', 'dev']); print('boto3' in sys.modules)"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert check.stdout.strip().endswith("False"), check.stderr
