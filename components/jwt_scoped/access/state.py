"""A stack as it is deployed: its resources with their real ids, URLs and secrets.

From a deployed stack, ``pulumi stack export --show-secrets`` (run here, or saved to a file); from
the local sandbox, the state file it writes in the same form, with a ``sandbox`` block naming its
local endpoints. Either becomes a ``model.StackModel`` whose resources have the same URNs as in
the plan of the same program and config, which is how ``verify`` finds the deployed form of each
planned user, app client and route.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .model import SECRET_SIG, SECRET_SIG_KEY, StackModel, resources_of_state, stack_model

SANDBOX_KEY = "sandbox"
"""The state file's block of local endpoints, when the sandbox wrote it."""
COGNITO_ENDPOINT = "cognito_endpoint"
USER_POOLS = "user_pools"
"""In the sandbox block: pool id -> ``issuer`` (the tokens' ``iss``), ``local_issuer`` (where its
discovery document and keys are served), ``discovery_url`` and ``domains`` (prefix -> the local
base URL of its hosted UI)."""
LOCAL_OUTPUTS = "local_outputs"
"""In the sandbox block: each stack output that names a hosted-UI URL on AWS, with the local one
(``hosted_ui_url``: the local sign-in page)."""


class StateError(Exception):
    """A state that cannot be had or used; the message is one line for the user."""


def pulumi_command(stack: str | None) -> list[str]:
    command = ["pulumi", "stack", "export", "--show-secrets"]
    return command + ["--stack", stack] if stack else command


def run_pulumi(stack: str | None, cwd: Path | str | None = None) -> dict:
    """The deployed stack's state, from the Pulumi CLI (logged in to the stack's backend)."""
    command = pulumi_command(stack)
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False,  # noqa: S603
                              timeout=120, cwd=cwd)
    except FileNotFoundError:
        raise StateError("the Pulumi CLI is not on PATH: install it "
                         "(https://www.pulumi.com/docs/iac/download-install/) or pass --state FILE "
                         "with the output of `pulumi stack export --show-secrets`") from None
    except subprocess.TimeoutExpired:
        raise StateError(f"`{' '.join(command)}` did not answer within 120 s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise StateError(f"`{' '.join(command)}` failed (exit {done.returncode}): {last}")
    return decode(done.stdout, "`pulumi stack export`")


def read_state_file(path: Path | str) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise StateError(f"cannot read state file {path}: {error.strerror or error}") from None
    return decode(text, str(path))


def decode(text: str, where: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError as error:
        raise StateError(f"{where}: not JSON ({error})") from None
    if not isinstance(value, dict):
        raise StateError(f"{where}: expected a JSON object (a Pulumi state export)")
    return value


def live_model(document: Mapping[str, Any], where: str = "the state") -> StackModel:
    """The deployed stack's model; secrets must be in plaintext."""
    hidden = encrypted(document)
    if hidden:
        raise StateError(f"{where} holds encrypted secrets (of {', '.join(hidden[:3])}): export "
                         "it with `pulumi stack export --show-secrets`")
    try:
        resources = resources_of_state(document)
    except ValueError as error:
        raise StateError(f"{where}: {error}") from None
    extra = document.get(SANDBOX_KEY)
    return stack_model(resources, {SANDBOX_KEY: dict(extra)} if isinstance(extra, Mapping) else {})


def encrypted(document: Mapping[str, Any]) -> list[str]:
    """The resources whose state holds a secret still encrypted (an export made without
    ``--show-secrets``), by name."""
    def has_ciphertext(value: Any) -> bool:
        if isinstance(value, Mapping):
            return (value.get(SECRET_SIG_KEY) == SECRET_SIG and "ciphertext" in value) or any(
                has_ciphertext(v) for v in value.values())
        return isinstance(value, list) and any(has_ciphertext(v) for v in value)

    deployment = document.get("deployment") if isinstance(document, Mapping) else None
    entries = deployment.get("resources") if isinstance(deployment, Mapping) else None
    return sorted({str(e.get("urn", "")).rsplit("::", 1)[-1] for e in entries or ()
                   if isinstance(e, Mapping) and has_ciphertext(e.get("outputs"))})


def sandbox_endpoint(model: StackModel) -> str | None:
    """The local Cognito endpoint of a sandbox's state, if it is one."""
    return (model.extra.get(SANDBOX_KEY) or {}).get(COGNITO_ENDPOINT)
