"""The components as a pip distribution, used as an outside program uses them: build the wheel,
install it apart from this repository, and build the blog's system with it from a folder outside
the repository, under Pulumi's mocks. The trigger's archive must hold everything it imports."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from jwt_scoped.recording import ROOT
from fixtures.trigger_events import V1_EVENT

EXAMPLE = ROOT / "examples" / "python"

# Run by the outside program's interpreter: the example under Pulumi's mocks, then a report.
RUNNER = '''
import json, runpy, sys
import pulumi

registered = []

class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args):
        outputs = dict(args.inputs)
        rid = f"{args.name}-id"
        if args.typ == "aws:cognito/userPool:UserPool":
            rid = "eu-west-2_AbCdEf123"
            outputs["endpoint"] = f"cognito-idp.eu-west-2.amazonaws.com/{rid}"
        if args.typ == "aws:cognito/userPoolClient:UserPoolClient":
            rid = "clientid0123456789abcdefgh"
        if args.typ == "aws:lambda/function:Function":
            outputs["arn"] = f"arn:aws:lambda:eu-west-2:123456789012:function:{args.name}"
        if args.typ.startswith("random:"):
            outputs["result"] = "abcd1234EFGH-_.+abcd1234"[:int(args.inputs["length"])]
        if args.typ == "aws:apigatewayv2/api:Api":
            outputs["executionArn"] = "arn:aws:execute-api:eu-west-2:123456789012:abc"
        if args.typ == "aws:apigatewayv2/stage:Stage":
            outputs["invokeUrl"] = "https://abc.execute-api.eu-west-2.amazonaws.com/Test"
        registered.append({"type": args.typ, "name": args.name, "inputs": {
            k: v for k, v in args.inputs.items() if k != "code"},
            "code": sorted((n, a.path) for n, a in args.inputs["code"].assets.items())
            if "code" in args.inputs else None})
        return [rid, outputs]

    def call(self, args):
        return {}

pulumi.runtime.set_mocks(Mocks(), project="outside", stack="dev", preview=False)

@pulumi.runtime.test
def program():
    runpy.run_path("__main__.py")

program()
import jwt_scoped
print(json.dumps({"jwt_scoped": jwt_scoped.__file__, "registered": registered}))
'''


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


def test_the_wheel_holds_the_components_and_their_functions_and_nothing_else(installed):
    (wheel,) = (installed / "wheel").glob("jwt_scoped-*.whl")
    names = {n for n in zipfile.ZipFile(wheel).namelist() if ".dist-info/" not in n}
    components = {f"jwt_scoped/{p.name}" for p in (ROOT / "components").glob("*.py")}
    assert names == components | {
        "jwt_scoped/trigger/__init__.py", "jwt_scoped/trigger/handler.py",
        "jwt_scoped/preflight/__init__.py", "jwt_scoped/preflight/handler.py"}


@pytest.fixture(scope="module")
def outside(installed) -> dict:
    """The Python example, copied outside the repository and run with the installed wheel."""
    program = installed / "program"
    shutil.copytree(EXAMPLE, program)
    (program / "run.py").write_text(RUNNER)
    done = subprocess.run([sys.executable, "run.py"], cwd=program, capture_output=True,
                          text=True, check=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(installed / "site")})
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_outside_program_uses_the_installed_package(installed, outside):
    assert Path(outside["jwt_scoped"]).is_relative_to(installed / "site")
    types = [r["type"] for r in outside["registered"]]
    assert types.count("aws:apigatewayv2/route:Route") == 3
    assert types.count("aws:cognito/userGroup:UserGroup") == 2
    routes = {r["inputs"]["routeKey"]: r["inputs"] for r in outside["registered"]
              if r["type"] == "aws:apigatewayv2/route:Route"}
    client = "clientid0123456789abcdefgh"
    assert routes["GET /AdminUser"]["authorizationScopes"] == [f"admin-{client}"]
    assert routes["GET /health"]["authorizationType"] == "NONE"


def test_the_trigger_archive_holds_everything_the_trigger_imports(installed, outside, tmp_path):
    (trigger,) = [r for r in outside["registered"] if r["type"] == "aws:lambda/function:Function"
                  and r["name"] == "auth-pre-token"]
    files = dict(trigger["code"])
    assert sorted(files) == ["handler.py", "scope_format.py"]
    assert all(Path(path).is_relative_to(installed / "site") for path in files.values())
    # Lambda's view: the archive's files alone, the handler loaded as a top-level module.
    for name, path in files.items():
        shutil.copy(path, tmp_path / name)
    event = json.dumps(V1_EVENT)
    done = subprocess.run(
        [sys.executable, "-I", "-c", "import json, sys; sys.path.insert(0, sys.argv[1]); "
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
