"""The components as a pip distribution, used as an outside program uses them: build the wheel,
install it apart from this repository, copy ``examples/python`` outside the repository with a
stack file of its own, and run the tools there (``jwt-scoped plan`` and ``jwt-scoped sandbox
--verify``) with the installed package. The trigger's archive must hold everything it imports.

(``scripts/check_distribution.sh``, run by CI, does the same in a fresh virtualenv that installs
nothing but the wheel with its ``sandbox`` extra; here the dependencies come from this
environment, with the installed wheel first on the path.)"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from fixtures.stacks import ROOT
from fixtures.trigger_events import V1_EVENT

EXAMPLE = ROOT / "examples" / "python"
PACKAGE = ROOT / "components" / "jwt_scoped"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel, built from this repository and installed into a folder of its own."""
    work = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(work / "wheel"), str(ROOT)],
                   check=True, capture_output=True)
    (wheel,) = (work / "wheel").glob("jwt_scoped-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(work / "site"), str(wheel)], check=True, capture_output=True)
    return work


def test_the_wheel_holds_the_package_and_nothing_else(installed):
    """Every module of components/jwt_scoped (the components, their functions, the tools), and
    none of this repository's program, functions, tests or policy pack."""
    (wheel,) = (installed / "wheel").glob("jwt_scoped-*.whl")
    names = {n for n in zipfile.ZipFile(wheel).namelist() if ".dist-info/" not in n}
    sources = {f"jwt_scoped/{p.relative_to(PACKAGE).as_posix()}" for p in PACKAGE.rglob("*.py")
               if "__pycache__" not in p.parts}
    assert names == sources
    assert {"jwt_scoped/trigger/handler.py", "jwt_scoped/preflight/handler.py",
            "jwt_scoped/sandbox/app.py", "jwt_scoped/access/verify.py"} <= names


def test_the_wheel_names_the_command_and_the_sandbox_extra(installed):
    (wheel,) = (installed / "wheel").glob("jwt_scoped-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        info = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(info).decode())
        points = archive.read(info.replace("METADATA", "entry_points.txt")).decode()
    assert "jwt-scoped = jwt_scoped.cli:main" in points
    assert "sandbox" in metadata.get_all("Provides-Extra")
    extra = [r for r in metadata.get_all("Requires-Dist") if 'extra == "sandbox"' in r]
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["sandbox"]
    name = re.compile(r"[A-Za-z0-9_.-]+")
    assert {name.match(r).group().lower() for r in extra} == {
        name.match(r).group().lower() for r in declared}
    assert {"moto", "uvicorn", "oauthlib"} <= {name.match(r).group().lower() for r in extra}


@pytest.fixture(scope="module")
def outside(installed) -> Path:
    """The Python example (with its own stack file), copied outside the repository."""
    program = installed / "program"
    shutil.copytree(EXAMPLE, program)
    return program


def tool(installed: Path, folder: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m jwt_scoped ARGS`` in ``folder``, the installed wheel first on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(installed / "site")
    return subprocess.run([sys.executable, "-m", "jwt_scoped", *args], cwd=folder,
                          capture_output=True, text=True, timeout=120, env=env)


def test_the_tools_run_from_the_installed_wheel(installed, outside):
    done = subprocess.run([sys.executable, "-c", "import jwt_scoped; print(jwt_scoped.__file__)"],
                          cwd=outside, capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(installed / "site")})
    assert Path(done.stdout.strip()).is_relative_to(installed / "site")


def test_plan_reads_an_outside_program(installed, outside):
    done = tool(installed, outside, "plan", "--stack", "dev", "--format", "json")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    statuses = {(c["caller"], c["route"]): c["status"] for c in plan["cells"]}
    assert statuses == {
        ("adminuser", "GET /AdminUser"): 200, ("adminuser", "GET /RegularUser"): 200,
        ("adminuser", "GET /health"): 200, ("regularuser", "GET /AdminUser"): 403,
        ("regularuser", "GET /RegularUser"): 200, ("regularuser", "GET /health"): 200,
        ("(anonymous)", "GET /AdminUser"): 401, ("(anonymous)", "GET /RegularUser"): 401,
        ("(anonymous)", "GET /health"): 200}


def test_the_sandbox_verifies_an_outside_program(installed, outside):
    done = tool(installed, outside, "sandbox", "--stack", "dev", "--port", "0", "--verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("All 15 cells match.")
    assert (outside / ".sandbox").is_dir() and not list((outside / ".sandbox").glob("*/state.json"))


# The trigger's archive as the installed ScopedIdentityPool registers it, under Pulumi's mocks.
ARCHIVE = """
import json
from jwt_scoped import ScopedIdentityPool, ScopedIdentityPoolArgs, GroupSpec
from jwt_scoped.recording import run_pulumi
run = run_pulumi(lambda: ScopedIdentityPool("auth", ScopedIdentityPoolArgs(
    groups=[GroupSpec(name="admin")])) and None)
(trigger,) = [r for r in run.of_type("aws:lambda/function:Function") if r.name == "auth-pre-token"]
print(json.dumps({name: asset.path for name, asset in trigger.inputs["code"].assets.items()}))
"""


def test_the_trigger_archive_holds_everything_the_trigger_imports(installed, tmp_path):
    done = subprocess.run([sys.executable, "-c", ARCHIVE], cwd=tmp_path, capture_output=True,
                          text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(installed / "site")})
    files = {name: Path(path) for name, path in json.loads(done.stdout.splitlines()[-1]).items()}
    assert sorted(files) == ["handler.py", "scope_format.py"]
    assert all(path.is_relative_to(installed / "site") for path in files.values())
    imported = {n.names[0].name if isinstance(n, ast.Import) else n.module
                for n in ast.walk(ast.parse(files["handler.py"].read_text()))
                if isinstance(n, (ast.Import, ast.ImportFrom))}
    assert imported - set(sys.stdlib_module_names) == {"scope_format"}
    # Lambda's view: the archive's files alone, the handler loaded as a top-level module.
    for name, path in files.items():
        shutil.copy(path, tmp_path / name)
    event = json.dumps(V1_EVENT)
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", "import json, sys; sys.path.insert(0, sys.argv[1]); "
         "import handler; print(json.dumps(handler.handler(json.loads(sys.argv[2]), None)))",
         str(tmp_path), event], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.splitlines()[-1])
    claim = result["response"]["claimsOverrideDetails"]["claimsToAddOrOverride"]["scope"]
    client = V1_EVENT["callerContext"]["clientId"]
    assert claim == f"admin-{client} regular-{client}"


def test_nothing_in_the_repository_imports_the_source_folder_by_its_folder_name():
    """The program, its tools and tests use the installed package (``jwt_scoped``), as an
    outside program would; ``components`` is only the folder it is built from."""
    offenders = []
    for path in ROOT.rglob("*.py"):
        if any(part in (".venv", ".ci-venv", "build", "venv") or part.startswith(".")
               for part in path.relative_to(ROOT).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                     else [])
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names
                          if n == "components" or n.startswith("components.")]
    assert offenders == []
