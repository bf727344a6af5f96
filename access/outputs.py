"""The deployed stack's outputs, as ``pulumi stack output --json --show-secrets`` prints them.

Read by running that command (the Pulumi CLI must be on PATH and logged in to the stack's
backend) or from a file holding its output. ``parse_outputs`` checks them; it is pure.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from program import outputs as names

REQUIRED = (names.API_URL, names.USER_POOL_ID, names.APP_CLIENT_ID, names.TOKEN_USE,
            names.TEST_USER_PASSWORDS)
HIDDEN_SECRET = "[secret]"  # what `pulumi stack output` prints without --show-secrets


class OutputsError(Exception):
    """Outputs that cannot be had or used; the message is one line for the user."""


@dataclass(frozen=True)
class StackOutputs:
    api_url: str
    user_pool_id: str
    app_client_id: str
    token_use: str
    passwords: dict[str, str]
    route_urls: dict[str, str] = field(default_factory=dict)
    scopes: dict[str, str] = field(default_factory=dict)


def pulumi_command(stack: str | None) -> list[str]:
    command = ["pulumi", "stack", "output", "--json", "--show-secrets"]
    return command + ["--stack", stack] if stack else command


def run_pulumi(stack: str | None) -> dict:
    """The outputs, from the Pulumi CLI."""
    command = pulumi_command(stack)
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False,  # noqa: S603
                              timeout=120)
    except FileNotFoundError:
        raise OutputsError("the Pulumi CLI is not on PATH: install it "
                           "(https://www.pulumi.com/docs/iac/download-install/) or pass "
                           "--outputs FILE with the output of `pulumi stack output --json "
                           "--show-secrets`") from None
    except subprocess.TimeoutExpired:
        raise OutputsError(f"`{' '.join(command)}` did not answer within 120 s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise OutputsError(f"`{' '.join(command)}` failed (exit {done.returncode}): {last}")
    return decode(done.stdout, "`pulumi stack output`")


def read_outputs_file(path: Path | str) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise OutputsError(f"cannot read outputs file {path}: {error.strerror or error}") from None
    return decode(text, str(path))


def decode(text: str, where: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError as error:
        raise OutputsError(f"{where}: not JSON ({error})") from None
    if not isinstance(value, dict):
        raise OutputsError(f"{where}: expected a JSON object of stack outputs")
    return value


def parse_outputs(raw: Mapping[str, Any]) -> StackOutputs:
    """Check the outputs this tool needs; raise ``OutputsError`` naming what is wrong."""
    missing = [key for key in REQUIRED if key not in raw]
    if missing:
        have = ", ".join(sorted(raw)) or "none"
        raise OutputsError(f"the stack outputs lack {', '.join(repr(k) for k in missing)} "
                           f"(they have: {have}); is the stack deployed with this program?")
    hidden = [key for key, value in raw.items() if value == HIDDEN_SECRET]
    if hidden:
        raise OutputsError(f"the outputs hide {', '.join(hidden)} as {HIDDEN_SECRET}: save them "
                           "with `pulumi stack output --json --show-secrets`")
    for key in (names.API_URL, names.USER_POOL_ID, names.APP_CLIENT_ID, names.TOKEN_USE):
        if not isinstance(raw[key], str) or not raw[key]:
            raise OutputsError(f"output {key!r} should be a non-empty string, got {raw[key]!r}")
    for key in (names.TEST_USER_PASSWORDS, names.ROUTE_URLS, names.SCOPES):
        value = raw.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise OutputsError(f"output {key!r} should map names to strings, got {value!r}")
    if not raw[names.API_URL].startswith(("https://", "http://")):
        raise OutputsError(f"output {names.API_URL!r} is not an http(s) URL: "
                           f"{raw[names.API_URL]!r}")
    return StackOutputs(api_url=raw[names.API_URL], user_pool_id=raw[names.USER_POOL_ID],
                        app_client_id=raw[names.APP_CLIENT_ID], token_use=raw[names.TOKEN_USE],
                        passwords=dict(raw[names.TEST_USER_PASSWORDS]),
                        route_urls=dict(raw.get(names.ROUTE_URLS, {})),
                        scopes=dict(raw.get(names.SCOPES, {})))
