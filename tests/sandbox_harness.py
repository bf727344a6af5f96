"""The one harness of the sandbox's end-to-end tests: start a sandbox of this repository's
program on a free port of 127.0.0.1 (its folder under a test's temporary folder), sign users in
to its Cognito, call its API, plant one fault in the program's resources, and run
``jwt-scoped verify`` against it."""

from __future__ import annotations

import contextlib
import http.client
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import botocore
import pulumi
import yaml
from botocore.config import Config

from jwt_scoped.access.plan import Stack
from jwt_scoped.cli import main as cli_main
from jwt_scoped.sandbox.app import Sandbox

from fixtures.stacks import PROJECT

# The blog's matrix as access verify reports it: (route, caller) -> status.
BLOG_MATRIX = {
    ("GET /AdminUser", "(anonymous)"): 401, ("GET /AdminUser", "adminuser"): 200,
    ("GET /AdminUser", "regularuser"): 403, ("GET /AdminUser", "(tampered)"): 401,
    ("GET /RegularUser", "(anonymous)"): 401, ("GET /RegularUser", "adminuser"): 200,
    ("GET /RegularUser", "regularuser"): 200, ("GET /RegularUser", "(tampered)"): 401,
    # adminuser's access token: valid, but the scopes are in the ID token (tokenUse: id)
    ("GET /AdminUser", "(other-token)"): 403, ("GET /RegularUser", "(other-token)"): 403,
}
# A function that shows what it sees: the event, its process, path, folder and environment.
ECHO = """
import json, os, sys
def handler(event, context):
    return {"event": event, "pid": os.getpid(), "path": sys.path, "cwd": os.getcwd(),
            "env": dict(os.environ), "function": context.function_name,
            "remaining": context.get_remaining_time_in_millis()}
"""


DEV = Stack(PROJECT, PROJECT.root / "Pulumi.dev.yaml", "dev")
"""This repository's program; each test gives its own config."""


@contextlib.contextmanager
def started(config: dict, folder: Path, *, stack: Stack = DEV, **options) -> Iterator[Sandbox]:
    """A sandbox of ``stack``'s program with ``config``, its folder under ``folder``."""
    sandbox = Sandbox(stack, config=config, port=0, run_root=folder, **options)
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


def cognito(sandbox: Sandbox):
    """An unsigned client for the sandbox's Cognito, as a user's CLI would use."""
    return boto3.client("cognito-idp", region_name=sandbox.region,
                        endpoint_url=sandbox.cognito_endpoint,
                        config=Config(signature_version=botocore.UNSIGNED,
                                      retries={"total_max_attempts": 1}))


def sign_in(sandbox: Sandbox, user: str) -> dict:
    """``AuthenticationResult`` of ``USER_PASSWORD_AUTH`` for a configured user."""
    outputs = sandbox.outputs
    return cognito(sandbox).initiate_auth(
        ClientId=outputs["app_client_id"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": outputs["test_user_passwords"][user]},
    )["AuthenticationResult"]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


def call(url: str, method: str = "GET", token: str | None = None,
         headers: dict[str, str] | None = None, body: bytes | None = None) -> Answer:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = token
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path or "/", body=body, headers=sent)
        response = connection.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()},
                      response.read())
    finally:
        connection.close()


# ---- faults: edit what the program registers before it is created -----------------------

Edit = Callable[[str, str, dict], "dict | None"]


def drop(typ: str, where: Callable[[dict], bool]) -> Edit:
    """Never create the resources of ``typ`` whose inputs satisfy ``where``."""
    def edit(t: str, name: str, inputs: dict) -> dict | None:
        return None if t == typ and where(inputs) else inputs
    return edit


def change(typ: str, how: Callable[[str, dict], dict]) -> Edit:
    """Create every resource of ``typ`` with ``how(name, inputs)``'s inputs."""
    def edit(t: str, name: str, inputs: dict) -> dict | None:
        return how(name, inputs) if t == typ else inputs
    return edit


def combined(*edits: Edit) -> Edit:
    """Every edit, in order (a resource one drops stays dropped)."""
    def edit(typ: str, name: str, inputs: dict) -> dict | None:
        for one in edits:
            inputs = one(typ, name, inputs)
            if inputs is None:
                return None
        return inputs
    return edit


def function_code(resource_name: str, files: dict[str, str]) -> Edit:
    """Ship the function ``resource_name`` with these files (archive name -> source)."""
    return change("aws:lambda/function:Function", lambda name, inputs: {
        **inputs, "code": pulumi.AssetArchive({k: pulumi.StringAsset(v) for k, v in files.items()})
    } if name == resource_name else inputs)


# ---- access verify against a sandbox ---------------------------------------------------------


AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER")


def verify(sandbox: Sandbox, config: dict, folder: Path, capsys, monkeypatch,
           attempts: int = 1) -> tuple[int, dict, str]:
    """Run ``jwt-scoped verify`` (in this process) with ``config`` against the sandbox's state
    file, as a user would: (exit code, {(route, caller): [expected, actual, result,
    reason...]}, its output). No AWS credentials or endpoint in the environment: the state names
    the sandbox's Cognito."""
    stack = folder / "Pulumi.sandbox.yaml"
    stack.write_text(yaml.safe_dump({"config": config}))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(folder / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(folder / "no-aws-credentials"))
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    capsys.readouterr()
    code = cli_main(["verify", "--config", str(stack), "--state", str(sandbox.state_file),
                     "-C", str(PROJECT.root), "--attempts", str(attempts), "--backoff", "0",
                     "--timeout", "5", "--format", "json"])
    out = capsys.readouterr()
    return code, rows(out.out), out.out + out.err


def rows(out: str) -> dict[tuple[str, str], list[str]]:
    """(route, caller) -> [expected, actual, result, reason words...] from verify's JSON
    report (``{}`` when verify could not run)."""
    try:
        document = json.loads(out)
    except ValueError:
        return {}
    return {(o["route"], o["caller"]): [str(o["expected"]), str(o["actual"]),
                                        "ok" if o["ok"] else "MISMATCH",
                                        *(o["reason"] or "").split()]
            for o in document["outcomes"]}


def statuses(table: dict[tuple[str, str], list[str]]) -> dict[tuple[str, str], int]:
    return {cell: int(values[1]) for cell, values in table.items()}
