"""``jwt-scoped plan`` as a user runs it: a project and its stack files in, text out, exit codes,
errors as one ``error:`` message on stderr."""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
import subprocess
import sys

import pulumi
import pytest
import yaml

from jwt_scoped.access import render
from jwt_scoped.cli import main
from jwt_scoped.project import ProjectError
from jwt_scoped.recording import run_program

from access_configs import matrix_of
from fixtures.stacks import NS, PROJECT, ROOT, blog_config, program_copy, stack_file_config

DEV = ROOT / "Pulumi.dev.yaml"
DEV_CONFIG = stack_file_config("dev")
"""What ``--stack dev`` reads (the blog's setup and the browser app's CORS origin)."""


@pytest.fixture(autouse=True)
def in_the_project(monkeypatch):
    """Run as a user does, in the project folder: stack files are shown relative to it."""
    monkeypatch.chdir(ROOT)


def write(path, config):
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def plan(capsys, *argv) -> tuple[int, str, str]:
    code = main(["plan", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def program_message(config: dict) -> str:
    """What the program itself says of ``config`` (run as Pulumi would run it)."""
    with pytest.raises(pulumi.RunError) as raised:
        run_program(PROJECT, config)
    return str(raised.value)


def one_error(err: str) -> str:
    """The message of stderr's one ``error:``, never a traceback."""
    assert err.startswith("error: ") and err.endswith("\n"), err
    assert err.count("error: ") == 1 and "Traceback" not in err, err
    return err[len("error: "):-1]


# ---- the plan ---------------------------------------------------------------------------

def test_plan_for_the_dev_stack_reads_pulumi_dev_yaml(capsys):
    code, out, err = plan(capsys, "--stack", "dev")
    assert (code, err) == (0, "")
    assert out == render.render_plan(matrix_of(DEV_CONFIG), "Pulumi.dev.yaml", "table")
    assert out.startswith("Access plan for Pulumi.dev.yaml (token: id, stage: Test)\n")
    assert "GET /AdminUser    200        403          401          admin-<appClientId>" in out.splitlines()


@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_each_format_is_the_render_of_the_stacks_plan(capsys, fmt):
    code, out, _ = plan(capsys, "--stack", "dev", "--format", fmt)
    assert code == 0
    assert out == render.render_plan(matrix_of(DEV_CONFIG), "Pulumi.dev.yaml", fmt)
    if fmt == "json":  # a plan document that reads back as the stack's matrix
        back = render.matrix_from_json(json.loads(out))
        expected = matrix_of(DEV_CONFIG)
        assert back.cells == expected.cells
        assert back.routes == tuple(dataclasses.replace(r, urn=None) for r in expected.routes)


def base_plan(tmp_path, **changes) -> str:
    """What ``plan --stack dev --format json`` prints (the test above holds them equal)."""
    document = {**render.plan_json(matrix_of(DEV_CONFIG), "Pulumi.dev.yaml"), **changes}
    path = tmp_path / "base.json"
    path.write_text(json.dumps(document))
    return str(path)


def widened(tmp_path):
    changed = copy.deepcopy(blog_config())
    changed[f"{NS}:routes"][0]["groups"] = ["admin", "regular"]
    return write(tmp_path / "Pulumi.dev.yaml", changed)


def test_against_a_plan_json_prints_only_the_changes(tmp_path, capsys):
    base = base_plan(tmp_path)
    head = widened(tmp_path)
    code, out, err = plan(capsys, "--config", str(head), "--against", base)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"Access changes from {base} to {head}:"
    assert "  regularuser  GET /AdminUser  403 -> 200" in lines
    assert not any("GET /RegularUser" in line for line in lines)  # unchanged: not shown


def test_against_another_stack_file_runs_the_program_with_it(tmp_path, capsys):
    head = widened(tmp_path)
    code, out, _ = plan(capsys, "--config", str(head), "--against", str(DEV), "--format", "json")
    document = json.loads(out)
    assert code == 0 and document["schema"] == "jwt-scoped/access-diff"
    assert (document["before"], document["after"]) == (str(DEV), str(head))
    assert document["changed"] == [{"caller": "regularuser", "route": "GET /AdminUser",
                                    "before": 403, "after": 200}]


def test_against_itself_nothing_changes(capsys):
    code, out, _ = plan(capsys, "--stack", "dev", "--against", str(DEV))
    assert code == 0
    assert "  no change in who can call what" in out.splitlines()


def test_a_bad_against_file_names_that_file(tmp_path, capsys):
    bad = copy.deepcopy(blog_config())
    bad[f"{NS}:tokenUse"] = "both"
    path = write(tmp_path / "base.yaml", bad)
    code, out, err = plan(capsys, "--stack", "dev", "--against", str(path))
    assert (code, out) == (2, "")
    assert one_error(err) == f"{path}: {program_message(bad)}"


def test_an_against_plan_of_another_version_is_refused(tmp_path, capsys):
    base = base_plan(tmp_path, version=1)
    code, _, err = plan(capsys, "--stack", "dev", "--against", base)
    assert code == 2
    assert one_error(err) == (f"{base}: not a jwt-scoped/access-plan document of version "
                              f"{render.JSON_VERSION}")


def test_a_missing_against_file_is_one_line(tmp_path, capsys):
    code, _, err = plan(capsys, "--stack", "dev", "--against", str(tmp_path / "nope.json"))
    assert code == 2
    assert one_error(err) == f"cannot read {tmp_path / 'nope.json'}: No such file or directory"


# ---- stacks and projects ----------------------------------------------------------------

def test_an_unknown_stack_lists_the_stack_files_there_are(capsys):
    code, out, err = plan(capsys, "--stack", "nosuchstack")
    assert (code, out) == (2, "")
    stacks = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))
    assert "dev" in stacks
    assert one_error(err) == (f"no stack 'nosuchstack': there is no Pulumi.nosuchstack.yaml in "
                              f"{ROOT}; stacks with a file: {', '.join(stacks)} (or pass "
                              "--config FILE)")


def test_the_project_file_is_refused_as_a_stack_file(capsys):
    path = ROOT / "Pulumi.yaml"
    with pytest.raises(ProjectError) as refused:
        PROJECT.stack_config(path)
    code, out, err = plan(capsys, "--config", str(path))
    assert (code, out) == (2, "")
    assert one_error(err) == str(refused.value)


def test_a_config_the_program_refuses_is_its_own_message_with_exit_2(tmp_path, capsys):
    bad = copy.deepcopy(blog_config())
    bad[f"{NS}:routes"][0]["groups"] = ["admn"]
    path = write(tmp_path / "Pulumi.bad.yaml", bad)
    code, out, err = plan(capsys, "--config", str(path))
    assert (code, out) == (2, "")
    message = program_message(bad)
    assert "'admn' (did you mean 'admin'?)" in message
    assert one_error(err) == f"{path}: {message}"


def test_a_program_that_raises_is_one_line_naming_its_own_line(tmp_path, capsys):
    copy_of = program_copy(tmp_path)
    main_py = tmp_path / "__main__.py"
    lines = main_py.read_text().splitlines()
    main_py.write_text("\n".join([*lines, 'raise RuntimeError("the program broke")']) + "\n")
    write(tmp_path / "Pulumi.dev.yaml", blog_config())
    code, out, err = plan(capsys, "-C", str(tmp_path), "--stack", "dev")
    assert (code, out) == (2, "")
    assert one_error(err) == (f"{copy_of.stack_file('dev')}: the program failed: RuntimeError: "
                              f"the program broke (at __main__.py:{len(lines) + 1})")


def test_cwd_points_at_another_program_and_its_stack_files(tmp_path, capsys):
    """A copy of this program whose routes are served by a function this repository does not
    have: its stack is planned with its own program, and refused by this one."""
    program_copy(tmp_path, functions=("hello", "reports"))
    config = copy.deepcopy(blog_config())
    config[f"{NS}:routes"][1]["function"] = "reports"
    path = write(tmp_path / "Pulumi.staging.yaml", config)
    code, out, err = plan(capsys, "--cwd", str(tmp_path), "--stack", "staging", "--format", "json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert document["source"] == str(path)
    assert {(c["caller"], c["route"]): c["status"] for c in document["cells"]} == {
        (c.caller, c.route): c.status for c in matrix_of(blog_config()).cells}
    code, _, err = plan(capsys, "--config", str(path))  # this repository's program
    assert code == 2 and "reports" in one_error(err)


def test_cwd_runs_any_program_built_with_the_components(tmp_path, capsys):
    """The Python example sets its routes in code, a public one among them."""
    example = tmp_path / "example"
    shutil.copytree(ROOT / "examples" / "python", example,
                    ignore=shutil.ignore_patterns("__pycache__", "venv"))
    write(example / "Pulumi.demo.yaml", {"aws:region": "eu-west-1"})
    code, out, err = plan(capsys, "-C", str(example), "--stack", "demo", "--format", "json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    routes = {r["route"]: r["access"] for r in document["routes"]}
    assert routes == {"GET /AdminUser": "groups", "GET /RegularUser": "groups",
                      "GET /health": "public"}
    assert {c["status"] for c in document["cells"] if c["route"] == "GET /health"} == {200}


def test_outside_a_project_the_error_says_to_pass_cwd(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = plan(capsys, "--stack", "dev")
    assert code == 2
    assert one_error(err).endswith("or pass --cwd PROJECT_FOLDER")


@pytest.mark.parametrize("argv", [[], ["--stack", "dev", "--config", str(DEV)],
                                  ["--stack", "dev", "--format", "yaml"]])
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as raised:
        main(["plan", *argv])
    assert raised.value.code == 2
    assert "usage: jwt-scoped plan" in capsys.readouterr().err


def test_python_m_jwt_scoped_plans_without_aws_credentials_or_the_aws_sdk():
    """``-X importtime`` lists every module the run imported: boto3 is not among them."""
    env = {"PATH": "/usr/bin:/bin", "AWS_EC2_METADATA_DISABLED": "true"}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "jwt_scoped", "plan",
                           "--stack", "dev", "--format", "json"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == render.plan_json(matrix_of(DEV_CONFIG),
                                                       "Pulumi.dev.yaml")
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    assert "jwt_scoped.access.plan" in imported
    assert not {name for name in imported if name.split(".")[0] == "boto3"}
