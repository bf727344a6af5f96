"""What the sandbox prints once it serves: where things are, and the blog's test ready to paste.
Pure but for reading the sandbox's attributes: the expected access matrix says what each call
answers."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from jwt_scoped.access.matrix import ANONYMOUS, AccessMatrix
from jwt_scoped.access.state import LOCAL_OUTPUTS, SANDBOX_KEY, USER_POOLS

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


def banner(sandbox, source: str, seconds: float, *, access_log: str, token_command: str) -> str:
    model = sandbox.model
    lines = [f"Sandbox of {source} (stack {sandbox.stack.name}): {len(sandbox.run.registered)} "
             f"resources, serving after {seconds:.2f} s"]
    lines += [f"  API          {api.invoke_url}  ({api.name})" for api in model.apis]
    lines += [f"  Cognito      {sandbox.cognito_endpoint}  (moto; region {sandbox.region}, pool "
              f"{pool.id}, app client{'s' if len(pool.clients) != 1 else ''} "
              f"{', '.join(c.id for c in pool.clients) or 'none'})" for pool in model.pools]
    lines += [f"  Sign-in      {url}  (the hosted UI: {name})"
              for name, url in sandbox.outputs[SANDBOX_KEY][LOCAL_OUTPUTS].items()]
    lines += [f"  Discovery    {pool['discovery_url']}"
              for pool in sandbox.outputs[SANDBOX_KEY][USER_POOLS].values()]
    if sandbox.web_url:
        lines.append(f"  Web app      {sandbox.web_url}  ({sandbox.web})")
    lines += [f"  Outputs      {sandbox.outputs_file}  (as `pulumi stack output --json "
              "--show-secrets`)",
              f"  State        {sandbox.state_file}  (as `pulumi stack export --show-secrets`)",
              f"  Logs         {sandbox.logs_dir}/<function>.log; access log: {access_log}",
              ""]
    matrix = sandbox.matrix
    if matrix.users and model.apis:
        lines += ["The blog's test (paste into another shell; `token USER` signs a user in):",
                  f"  token() {{ {token_command} \"$1\"; }}"]
        lines += [f"  {line}" for line in curl_lines(matrix, sandbox.api_url)]
        lines.append("")
    lines.append("Stop with Ctrl-C.")
    return "\n".join(lines)
