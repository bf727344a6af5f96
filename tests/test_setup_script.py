"""`scripts/test.sh` on a first use: the interpreter is checked before anything is created, and a
virtualenv that another interpreter made is rebuilt, not reused. Stand-in interpreters (small
scripts that answer the script's probe and log how they were called) keep this fast and offline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from fixtures.stacks import ROOT

SCRIPT = ROOT / "scripts" / "test.sh"
BASH = shutil.which("bash") or "/bin/bash"

# A stand-in interpreter. For `-c` (the probe) it prints the identity it was given; for `-m venv
# [--clear] DIR` it makes DIR a virtualenv whose bin/python is a stand-in of the same identity;
# anything else (pip) fails, so the script stops there. Each call is logged.
FAKE = '''#!{python}
import json, os, sys
VERSION, BASE, LOG = {version!r}, {base!r}, {log!r}
with open(LOG, "a") as log:
    log.write(json.dumps([sys.argv[0], *sys.argv[1:]]) + "\\n")
args = sys.argv[1:]
if args[0] == "-c":
    sys.stdout.write(f"{{VERSION}}\\t{{BASE}}\\t{{sys.argv[0]}}\\n")
elif args[:2] == ["-m", "pip"] and os.environ.get("FAKE_PIP_OK"):
    sys.exit(0)
elif args[:2] == ["-m", "venv"]:
    venv = args[-1]
    if "--clear" in args and os.path.isdir(os.path.join(venv, "bin")):
        for name in os.listdir(os.path.join(venv, "bin")):
            os.remove(os.path.join(venv, "bin", name))
    os.makedirs(os.path.join(venv, "bin"), exist_ok=True)
    with open(os.path.join(venv, "pyvenv.cfg"), "w") as cfg:
        cfg.write(f"version = {{VERSION}}\\n")
    me = os.path.join(venv, "bin", "python")
    with open(sys.argv[0]) as source, open(me, "w") as copy:
        copy.write(source.read())
    os.chmod(me, 0o755)
else:
    sys.exit(17)
'''


def fake_python(path: Path, version: str, base: str, log: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FAKE.format(python=sys.executable, version=version, base=base, log=str(log)))
    path.chmod(0o755)
    return path


def fake_venv(folder: Path, version: str, base: str, log: Path) -> Path:
    (folder / "bin").mkdir(parents=True)
    (folder / "pyvenv.cfg").write_text(f"version = {version}\n")
    fake_python(folder / "bin" / "python", version, base, log)
    return folder


def run(tmp_path: Path, python: str, venv: Path, *args: str,
        script: Path = SCRIPT, **env_vars: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON": python, "VENV": str(venv), **env_vars}
    return subprocess.run([BASH, str(script), *args], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, check=False)


def calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_an_old_python_stops_the_script_with_one_line_before_anything_is_created(tmp_path):
    log = tmp_path / "calls.log"
    old = fake_python(tmp_path / "old" / "python3.10", "3.10.13", "/opt/python3.10", log)
    venv = tmp_path / "venv"
    done = run(tmp_path, str(old), venv)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "Python 3.10.13" in lines[0] and str(old) in lines[0] and "3.11+" in lines[0]
    assert "PYTHON=python3.12" in lines[0]
    assert not venv.exists()
    assert [call[1] for call in calls(log)] == ["-c"]  # only the probe ran


def test_the_sandbox_script_makes_its_virtualenv_the_same_way(tmp_path):
    """scripts/sandbox.sh shares scripts/venv.sh: the same check, named after itself."""
    old = fake_python(tmp_path / "old" / "python3.10", "3.10.13", "/opt/python3.10",
                      tmp_path / "calls.log")
    done = run(tmp_path, str(old), tmp_path / "venv", "dev",
               script=ROOT / "scripts" / "sandbox.sh")
    assert done.returncode == 2 and not (tmp_path / "venv").exists()
    assert done.stderr.startswith("scripts/sandbox.sh: needs Python 3.11+, but ")
    assert "PYTHON=python3.12 bash scripts/sandbox.sh" in done.stderr


def test_a_missing_interpreter_is_named(tmp_path):
    done = run(tmp_path, "no-such-python3.99", tmp_path / "venv")
    assert done.returncode == 2
    assert "no-such-python3.99" in done.stderr and "PYTHON=python3.12" in done.stderr
    assert not (tmp_path / "venv").exists()


def test_a_virtualenv_this_interpreter_made_is_reused(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    done = run(tmp_path, sys.executable, venv, "--check-python")
    assert done.returncode == 0, done.stderr
    assert f"venv: {venv}: reuse" in done.stdout.splitlines()


def test_a_virtualenv_of_another_version_would_be_rebuilt(tmp_path):
    venv = fake_venv(tmp_path / "venv", "3.10.13", "/opt/python3.10", tmp_path / "calls.log")
    done = run(tmp_path, sys.executable, venv, "--check-python")
    assert done.returncode == 0, done.stderr
    assert f"venv: {venv}: rebuild (made by Python 3.10.13 in /opt/python3.10)" in done.stdout.splitlines()


def test_a_virtualenv_whose_interpreter_no_longer_runs_would_be_rebuilt(tmp_path):
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("version = 3.10.13\n")  # bin/python is gone
    done = run(tmp_path, sys.executable, venv, "--check-python")
    assert done.returncode == 0, done.stderr
    assert f"venv: {venv}: rebuild (its interpreter no longer runs)" in done.stdout.splitlines()


def test_a_folder_that_is_not_a_virtualenv_is_left_alone(tmp_path):
    folder = tmp_path / "venv"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    done = run(tmp_path, sys.executable, folder)
    assert done.returncode == 2
    assert "not a virtualenv" in done.stderr
    assert (folder / "keep.txt").read_text() == "mine"


def test_the_virtualenv_of_another_interpreter_is_rebuilt_with_the_chosen_one(tmp_path):
    log = tmp_path / "calls.log"
    venv = fake_venv(tmp_path / "venv", "3.10.13", "/opt/python3.10", log)
    new = fake_python(tmp_path / "new" / "python3.12", "3.12.1", "/opt/python3.12", log)
    done = run(tmp_path, str(new), venv)
    assert done.returncode == 17  # the stand-in's pip: the script went on with the new virtualenv
    assert "rebuilding it with Python 3.12.1" in done.stderr
    made = [call for call in calls(log) if call[0] == str(new) and call[1] == "-m"]
    assert made == [[str(new), "-m", "venv", "--clear", str(venv)]]
    pip = [call for call in calls(log) if call[1:3] == ["-m", "pip"]]
    assert len(pip) == 1 and pip[0][0] == str(venv / "bin" / "python")
    probe = subprocess.run([str(venv / "bin" / "python"), "-c", "probe"], capture_output=True,
                           text=True, check=True)
    assert probe.stdout.split("\t")[:2] == ["3.12.1", "/opt/python3.12"]



def test_the_install_runs_once_and_again_only_when_the_requirements_change(tmp_path):
    """A second start does not re-check pip (seconds on every start); the first says what it
    installs, and a changed requirements file (here: the stamp it is compared with) installs
    again."""
    log = tmp_path / "calls.log"
    python = fake_python(tmp_path / "py" / "python3.12", "3.12.1", "/opt/python3.12", log)
    venv = tmp_path / "venv"

    def pip_calls() -> int:
        return sum(call[1:3] == ["-m", "pip"] for call in calls(log))

    first = run(tmp_path, str(python), venv, FAKE_PIP_OK="1")
    assert pip_calls() == 1
    assert "installing requirements-dev.txt into" in first.stderr
    second = run(tmp_path, str(python), venv, FAKE_PIP_OK="1")
    assert pip_calls() == 1 and "installing" not in second.stderr
    (venv / ".installed-from").write_text("the requirements of another day\n")
    run(tmp_path, str(python), venv, FAKE_PIP_OK="1")
    assert pip_calls() == 2


def test_a_failed_install_is_tried_again_next_time(tmp_path):
    log = tmp_path / "calls.log"
    python = fake_python(tmp_path / "py" / "python3.12", "3.12.1", "/opt/python3.12", log)
    venv = tmp_path / "venv"
    assert run(tmp_path, str(python), venv).returncode == 17  # the stand-in's pip fails
    assert not (venv / ".installed-from").exists()
    run(tmp_path, str(python), venv, FAKE_PIP_OK="1")
    assert sum(call[1:3] == ["-m", "pip"] for call in calls(log)) == 2
