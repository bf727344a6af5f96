"""The live check: does the deployed API answer every (caller, route) as the matrix expects?

Each test user is signed in (``signin``), then every route is called (``probe``) with no token,
with each user's token and with a tampered token (a user's token with one signature character
changed). Expected: anonymous 401, tampered 401, a member of one of the route's groups 200, any
other user 403. The decisions (what to call, what to expect, whether the deployment matches the
config at all, what counts as a mismatch) are pure functions; ``run`` does the I/O.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

from components.scope_format import scope_name

from .matrix import ANONYMOUS, UNAUTHORIZED, AccessMatrix
from .outputs import StackOutputs
from .probe import RetryPolicy, call, error_description

TAMPERED = "(tampered)"


class VerifyError(Exception):
    """The check cannot run (the deployment does not match the config, ...): exit 2."""


@dataclass(frozen=True)
class Probe:
    caller: str
    route: str
    method: str
    path: str
    expected: int


@dataclass(frozen=True)
class Outcome:
    probe: Probe
    actual: int
    reason: str | None = None
    """For a 401: the ``error_description`` of the ``www-authenticate`` header."""

    @property
    def ok(self) -> bool:
        return self.actual == self.probe.expected


def probes(matrix: AccessMatrix, tampered: bool) -> list[Probe]:
    """Every route, in config order, called by the anonymous caller, each user, and (when a
    user's token exists to tamper with) a tampered token."""
    callers = [ANONYMOUS, *(u.name for u in matrix.users)] + ([TAMPERED] if tampered else [])
    out = []
    for route in matrix.routes:
        for caller in callers:
            expected = (UNAUTHORIZED if caller == TAMPERED
                        else matrix.cell(caller, route.key).status)
            out.append(Probe(caller, route.key, route.method, route.path, expected))
    return out


def tamper(token: str) -> str:
    """The same token with one character of its signature changed: still a well-formed JWT,
    with the same claims, that no key signed."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[2]:
        raise ValueError("not a signed JWT (header.payload.signature)")
    signature = parts[2]
    i = len(signature) // 2  # not the last character: its low bits may be padding
    flipped = "A" if signature[i] != "A" else "B"
    return ".".join([parts[0], parts[1], signature[:i] + flipped + signature[i + 1:]])


def token_for(caller: str, tokens: Mapping[str, str]) -> str | None:
    if caller == ANONYMOUS:
        return None
    if caller == TAMPERED:
        return tamper(next(iter(tokens.values())))
    return tokens[caller]


def url_for(api_url: str, path: str) -> str:
    """The stage URL (``.../Test`` or the root for ``$default``) plus a route's sample path."""
    return api_url.rstrip("/") + path


def deployment_problems(matrix: AccessMatrix, outputs: StackOutputs) -> list[str]:
    """Why the deployed stack cannot be checked against this config (it was deployed from
    another one, or not at all)."""
    problems = []
    if outputs.token_use != matrix.token_use:
        problems.append(f"the config says tokenUse {matrix.token_use!r} but the stack was deployed "
                        f"with {outputs.token_use!r}")
    missing = [u.name for u in matrix.users if u.name not in outputs.passwords]
    if missing:
        problems.append(f"no password in test_user_passwords for {', '.join(missing)}")
    if outputs.route_urls:
        absent = [r.key for r in matrix.routes if r.key not in outputs.route_urls]
        if absent:
            problems.append(f"route_urls has no {', '.join(absent)}")
    for group, scope in sorted(outputs.scopes.items()):
        if scope != scope_name(group, outputs.app_client_id):
            problems.append(f"scopes[{group}] is {scope!r}, not "
                            f"{scope_name(group, outputs.app_client_id)!r}")
    return problems


def mismatch_lines(outcomes: Sequence[Outcome]) -> list[str]:
    bad = [o for o in outcomes if not o.ok]
    if not bad:
        return [f"All {len(outcomes)} cells match."]
    rows = [[o.probe.caller, o.probe.route, f"expected {o.probe.expected}, got {o.actual}"
             + (f" ({o.reason})" if o.reason else "")] for o in bad]
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    return [f"{len(bad)} mismatch{'es' if len(bad) != 1 else ''}:",
            *(f"  {r[0].ljust(widths[0])}  {r[1].ljust(widths[1])}  {r[2]}" for r in rows)]


class _Rows:
    """Prints one aligned row per outcome as it arrives (a live run takes a while)."""

    HEADER = ("route", "caller", "expected", "actual", "result", "401 reason (www-authenticate)")

    def __init__(self, probes_: Sequence[Probe], out: TextIO):
        self.out = out
        self.widths = [max(len(self.HEADER[0]), *(len(p.route) for p in probes_)),
                       max(len(self.HEADER[1]), *(len(p.caller) for p in probes_)),
                       len(self.HEADER[2]), len(self.HEADER[3]), len("MISMATCH")]
        self.line(self.HEADER)

    def line(self, cells: Sequence[str]) -> None:
        padded = [c.ljust(w) for c, w in zip(cells, self.widths, strict=False)]
        print("  ".join(padded + list(cells[len(self.widths):])).rstrip(), file=self.out,
              flush=True)

    def outcome(self, o: Outcome) -> None:
        reason = (o.reason or "(no error_description)") if o.actual == UNAUTHORIZED else ""
        self.line([o.probe.route, o.probe.caller, str(o.probe.expected), str(o.actual),
                   "ok" if o.ok else "MISMATCH", reason])


def run(matrix: AccessMatrix, outputs: StackOutputs, policy: RetryPolicy,
        out: TextIO | None = None) -> int:
    """Sign in, call every cell, print the report. 0: all match; 1: a mismatch. Raises
    ``VerifyError``, ``SignInError`` or ``Unreachable`` (exit 2) when the check cannot run."""
    from .signin import cognito_client, sign_in  # boto3 only where it is needed

    out = out or sys.stdout

    problems = deployment_problems(matrix, outputs)
    if problems:
        raise VerifyError("the deployed stack does not match the config: " + "; ".join(problems)
                          + " (run `pulumi up` with this config first)")
    tokens: dict[str, str] = {}
    if matrix.users:
        client = cognito_client(outputs.user_pool_id, policy.attempts, policy.timeout)
        for user in matrix.users:
            tokens[user.name] = sign_in(client, outputs.app_client_id, user.name,
                                        outputs.passwords[user.name], outputs.token_use)
    todo = probes(matrix, tampered=bool(tokens))
    print(f"Verifying {outputs.api_url} with {outputs.token_use} tokens: {len(matrix.routes)} "
          f"routes, {len(tokens)} users signed in", file=out)
    if tokens:
        print(f"{TAMPERED} is {next(iter(tokens))}'s token with one signature character changed",
              file=out)
    rows = _Rows(todo, out)
    outcomes = []
    for p in todo:
        answer = call(url_for(outputs.api_url, p.path), p.method, token_for(p.caller, tokens),
                      policy)
        reason = error_description(answer.www_authenticate) if answer.status == UNAUTHORIZED else None
        outcomes.append(Outcome(p, answer.status, reason))
        rows.outcome(outcomes[-1])
    print("", *mismatch_lines(outcomes), sep="\n", file=out)
    return 0 if all(o.ok for o in outcomes) else 1
