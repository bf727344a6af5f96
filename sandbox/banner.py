"""What the sandbox prints once it serves: where things are, and the blog's test ready to paste.
Pure: it reads the stack outputs and the expected access matrix."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from access.matrix import ANONYMOUS, AccessMatrix
from program import outputs as stack_outputs

MAX_USERS = 2
MAX_ROUTES = 3


def _url(api_url: str, path: str) -> str:
    return api_url.rstrip("/") + path


def curl_lines(matrix: AccessMatrix, api_url: str) -> list[str]:
    """The blog's test: the first route without a token, then, for the first users, their
    token and each route with it; each line says the status the plan expects."""
    routes = list(matrix.routes)[:MAX_ROUTES]
    if not routes:
        return []

    def curl(route, token_var: str | None, caller: str) -> str:
        method = [] if route.method == "GET" else ["-X", route.method]
        header = [] if token_var is None else ["-H", f'"Authorization: ${token_var}"']
        command = " ".join(["curl", "-s", *method, *header,
                            shlex.quote(_url(api_url, route.path))])
        return f"{command}  # {matrix.cell(caller, route.key).status}"

    lines = [curl(routes[0], None, ANONYMOUS)]
    for user in list(matrix.users)[:MAX_USERS]:
        variable = "".join(c if c.isalnum() else "_" for c in user.name)
        lines.append(f"{variable}=$(token {shlex.quote(user.name)})")
        lines += [curl(route, variable, user.name) for route in routes]
    return _aligned(lines)


def _aligned(lines: Sequence[str]) -> list[str]:
    width = max((len(line.split("  # ")[0]) for line in lines if "  # " in line), default=0)
    out = []
    for line in lines:
        command, sep, status = line.partition("  # ")
        out.append(f"{command.ljust(width)}  # {status}" if sep else line)
    return out


def banner(*, source: str, stack: str, resources: int, seconds: float,
           outputs: Mapping[str, Any], api_urls: Mapping[str, str], outputs_file: str,
           logs_dir: str, access_log: str, token_command: str,
           matrix: AccessMatrix | None) -> str:
    sandbox = outputs["sandbox"]
    lines = [f"Sandbox of {source} (stack {stack}): {resources} resources, serving after "
             f"{seconds:.2f} s",
             f"  API          {outputs['api_url']}"]
    lines += [f"  API {api_id}  {url}" for api_id, url in api_urls.items()
              if not outputs[stack_outputs.API_URL].startswith(url)]
    lines += [f"  Cognito      {sandbox['cognito_endpoint']}  (moto; region {sandbox['region']}, "
              f"pool {outputs.get('user_pool_id', '?')}, app client "
              f"{outputs.get('app_client_id', '?')})",
              f"  Outputs      {outputs_file}  (as `pulumi stack output --json --show-secrets`)",
              f"  Logs         {logs_dir}/<function>.log; access log: {access_log}",
              ""]
    if matrix is not None and matrix.users:
        lines += ["The blog's test (paste into another shell; `token USER` signs a user in):",
                  f"  token() {{ {token_command} \"$1\"; }}"]
        lines += [f"  {line}" for line in curl_lines(matrix, outputs[stack_outputs.API_URL])]
        lines.append("")
    lines.append("Stop with Ctrl-C.")
    return "\n".join(lines)
