"""The live check: does the deployed API answer every (caller, route) as the matrix expects?

The deployed form of each planned user, app client, machine client and route is found by URN in
the stack's state (``state``). Each test user is signed in (``signin``: both tokens), each
machine client gets the access token of the client credentials grant from its pool's token
endpoint with its secret from the state (``code_flow.client_credentials``), then every route is
called (``probe``) with no token, with each user's token that carries the scopes, with each
machine's token, with a tampered token (a user's token with one signature character changed)
and with that user's other token, which carries no group scope. With CORS configured, each
route's request is also preflighted as a browser would. Expected, by the route's access
(``matrix.expected_status``): public routes 200 for everyone; otherwise no token and the
tampered token 401; signed-in routes 200 for any valid token (a machine's too); group routes
200 for a member of one of the route's groups with the scoped token, or a machine whose token
holds one of the route's machine scopes, 403 for anyone else (the other token included). The
decisions (what to call, what to expect, whether the deployment matches the config at all, what
counts as a mismatch) are pure functions; ``run`` does the I/O.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from jwt_scoped.cognito_urls import TOKEN_PATH, domain_url, region_of_pool
from jwt_scoped.modes import TokenUse

from .matrix import ANONYMOUS, UNAUTHORIZED, AccessMatrix, Route, build_matrix, expected_status
from .model import StackModel
from .probe import Answer, RetryPolicy, call, error_description
from .state import SANDBOX_KEY, USER_POOLS, sandbox_endpoint

TAMPERED = "(tampered)"
OTHER_TOKEN = "(other-token)"
PREFLIGHT = "(preflight)"
FORMATS = ("table", "json")
VERIFY_SCHEMA = "jwt-scoped/access-verify"
JSON_VERSION = 1
CORS_PROBE_ORIGIN = "https://verify.example"
"""The ``Origin`` a preflight sends when the API allows any origin (``*``)."""


class VerifyError(Exception):
    """The check cannot run (the deployment does not match the config, ...): exit 2."""


@dataclass(frozen=True)
class Probe:
    caller: str
    route: str
    method: str
    path: str
    expected: int | None
    """The status to expect; ``None``: any 2xx (a preflight a public route's function answers)."""
    headers: tuple[tuple[str, str], ...] = ()
    """Extra request headers (a preflight's ``Origin`` and ``Access-Control-Request-Method``)."""

    @property
    def origin(self) -> str | None:
        return dict(self.headers).get("Origin")


@dataclass(frozen=True)
class Outcome:
    probe: Probe
    actual: int
    reason: str | None = None
    """For a 401: the ``error_description`` of the ``www-authenticate`` header; for a preflight
    without CORS headers: that."""
    allow_origin: str | None = None

    @property
    def ok(self) -> bool:
        if self.probe.origin is not None and 200 <= self.actual < 300 \
                and self.allow_origin not in (self.probe.origin, "*"):
            return False  # a 2xx preflight without CORS headers is refused by the browser
        if self.probe.expected is None:
            return 200 <= self.actual < 300
        return self.actual == self.probe.expected

    @property
    def expected_text(self) -> str:
        return "2xx" if self.probe.expected is None else str(self.probe.expected)


def probes(matrix: AccessMatrix, tampered: bool, other_token: bool = False) -> list[Probe]:
    """Every route, in config order, called by the anonymous caller, each user, each machine
    client, and (when a token exists) a tampered token and a user's other token; then the
    preflights."""
    callers = [ANONYMOUS, *(u.name for u in matrix.users), *(m.name for m in matrix.machines)]
    callers += [TAMPERED] if tampered else []
    callers += [OTHER_TOKEN] if other_token else []
    out = []
    for route in matrix.routes:
        for caller in callers:
            if caller == TAMPERED:
                expected = expected_status(route.access, route.scopes, None)
            elif caller == OTHER_TOKEN:
                expected = expected_status(route.access, route.scopes, ())
            else:
                expected = matrix.cell(caller, route.key).status
            out.append(Probe(caller, route.key, route.method, route.path, expected))
    origin = CORS_PROBE_ORIGIN if matrix.cors_origin == "*" else matrix.cors_origin
    for preflight in matrix.preflights:
        out.append(Probe(PREFLIGHT, preflight.route, "OPTIONS", preflight.path, preflight.status,
                         (("Origin", origin),
                          ("Access-Control-Request-Method", preflight.method))))
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


def token_for(caller: str, tokens: Mapping[str, Mapping[TokenUse, str]],
              token_use: TokenUse, machine_tokens: Mapping[str, str] | None = None) -> str | None:
    """The token ``caller`` presents. ``tokens``: each user's ID and access tokens;
    ``machine_tokens``: each machine client's access token, which it always presents. The
    tampered token is the first user's (the first machine's, without users)."""
    machine_tokens = machine_tokens or {}
    if caller in (ANONYMOUS, PREFLIGHT):
        return None
    if caller == TAMPERED and not tokens:
        return tamper(next(iter(machine_tokens.values())))
    if caller in (TAMPERED, OTHER_TOKEN):
        first = next(iter(tokens.values()))
        return tamper(first[token_use]) if caller == TAMPERED else first[token_use.other]
    if caller in machine_tokens:
        return machine_tokens[caller]
    return tokens[caller][token_use]


def url_for(api_url: str, path: str) -> str:
    """The stage URL (``.../Test`` or the root for ``$default``) plus a route's sample path."""
    return api_url.rstrip("/") + path


@dataclass(frozen=True)
class SignIn:
    """How one planned caller signs in to the deployed stack."""

    user_pool_id: str
    client_id: str
    username: str
    password: str
    hosted_ui: str | None = None
    """The base URL of the pool's domain (the sandbox's local one in a sandbox's state), for a
    sign-in through the hosted UI; ``None``: the pool has no domain."""
    callback_url: str | None = None
    """The app client's first callback URL (``None``: it takes no code grant)."""
    scopes: tuple[str, ...] = ()
    """The OAuth scopes the app client may ask for."""

    def code_flow_problem(self) -> str | None:
        """Why this caller cannot sign in through the hosted UI, or ``None``."""
        if self.hosted_ui is None:
            return f"the user pool {self.user_pool_id} has no domain, so no hosted UI"
        if self.callback_url is None:
            return f"the app client {self.client_id} takes no code grant (no callback URL)"
        return None


@dataclass(frozen=True)
class MachineSignIn:
    """How one planned machine client gets its token from the deployed stack."""

    client_name: str
    client_id: str
    client_secret: str = field(repr=False)
    """From the state (the client's ``clientSecret`` output); never shown."""
    token_url: str
    """The token endpoint of its pool's domain (the sandbox's local one in a sandbox's state)."""


SIGNED_IN_BY = {"password": "with their passwords (InitiateAuth)",
                "code": "through the hosted UI (code grant with PKCE)"}
SIGN_IN_METHODS = tuple(SIGNED_IN_BY)
"""How verify signs its callers in: ``InitiateAuth`` with ``USER_PASSWORD_AUTH``, or the hosted
UI's code grant with PKCE, as a browser does."""


@dataclass(frozen=True)
class Deployed:
    """The deployed form of what the matrix plans: where each route answers, how each caller
    signs in, and which token the deployed pool writes the scopes into."""

    api_urls: Mapping[str, str]
    """Route (as the matrix names it) -> the URL of its API's stage."""
    sign_ins: Mapping[str, SignIn]
    token_use: TokenUse
    cognito_endpoint: str | None = None
    """The sandbox's local Cognito, when the state is a sandbox's."""
    drift: tuple[str, ...] = ()
    """How the deployed routes differ from the plan's (``drift``)."""
    machines: Mapping[str, MachineSignIn] = field(default_factory=dict)
    """Machine caller -> how it gets its token."""

    @property
    def label(self) -> str:
        return ", ".join(dict.fromkeys(self.api_urls.values())) or "(no API)"


def urn_key(urn: str | None) -> str:
    """A URN without its stack (``urn:pulumi:<stack>::<project>::<type>::<name>``): the same
    resource of the same program, whichever stack file the plan was read from."""
    return (urn or "").split("::", 1)[-1]


def deployed(matrix: AccessMatrix, live: StackModel) -> Deployed:
    """Find each planned route, user, app client and machine client in the deployed stack, by
    URN. Raises ``VerifyError`` listing what is missing (a stack deployed from another config,
    or not yet)."""
    routes = {urn_key(route.urn): api for api in live.apis for route in api.routes}
    users = {urn_key(user.urn): (pool, user) for pool in live.pools for user in pool.users}
    pools = {urn_key(client.urn): pool for pool in live.pools for client in pool.clients}
    clients = {urn_key(client.urn): client for pool in live.pools for client in pool.clients}
    problems, api_urls, sign_ins = [], {}, {}
    for route in matrix.routes:
        api = routes.get(urn_key(route.urn))
        if api is None:
            problems.append(f"route {route.key} is not deployed")
        elif not api.invoke_url:
            problems.append(f"the stage of {route.key} has no URL: is it deployed?")
        else:
            api_urls[route.key] = api.invoke_url
    token_uses = set()
    for caller in matrix.users:
        pool, user = users.get(urn_key(caller.user_urn), (None, None))
        client = clients.get(urn_key(caller.client_urn))
        if user is None or client is None:
            problems.append(f"test user {caller.name} is not deployed")
            continue
        if not user.password:
            problems.append(f"the state holds no password for {caller.name}")
            continue
        token_uses.add(pool.token_use)
        code_grant = "code" in client.oauth_flows and client.callback_urls
        sign_ins[caller.name] = SignIn(
            pool.id, client.id, user.username, user.password, hosted_ui_base(live, pool),
            client.callback_urls[0] if code_grant else None, client.oauth_scopes)
    machines = {}
    for caller in matrix.machines:
        client = clients.get(urn_key(caller.client_urn))
        if client is None:
            problems.append(f"machine client {caller.client} is not deployed")
            continue
        pool = pools[urn_key(caller.client_urn)]
        base = hosted_ui_base(live, pool)
        if not client.secret:
            problems.append(f"the state holds no secret for machine client {caller.client}")
        elif base is None:
            problems.append(f"the user pool {pool.id} has no domain, so machine client "
                            f"{caller.client} has no token endpoint")
        else:
            machines[caller.name] = MachineSignIn(client.name, client.id, client.secret,
                                                  base + TOKEN_PATH)
    if token_uses and token_uses != {matrix.token_use}:
        problems.append(f"the plan puts the scopes in the {matrix.token_use} token but the "
                        f"deployed pool writes them into the {token_uses.pop()} token")
    if problems:
        raise VerifyError("the deployed stack does not match the plan: " + "; ".join(problems)
                          + " (run `pulumi up` with this config first)")
    return Deployed(api_urls, sign_ins, matrix.token_use, sandbox_endpoint(live),
                    drift(matrix, build_matrix(live, placeholders=matrix.placeholders)), machines)


def hosted_ui_base(live: StackModel, pool) -> str | None:
    """The base URL of ``pool``'s hosted UI: the sandbox's local one, or its domain on AWS."""
    if pool.domain is None:
        return None
    local = ((live.extra.get(SANDBOX_KEY) or {}).get(USER_POOLS) or {}).get(pool.id)
    if local is not None:
        return (local.get("domains") or {}).get(pool.domain)
    return domain_url(pool.domain, region_of_pool(pool.id))


def drift(plan: AccessMatrix, live: AccessMatrix) -> tuple[str, ...]:
    """Routes deployed with other access or scopes than the plan gives them (a stack deployed
    from another config, or changed by hand): said before the cells, which then show what it
    does to each caller. ``live`` must show client ids as ``plan`` does (``placeholders``):
    scopes are compared as they are shown."""
    deployed_routes = {route.key: route for route in live.routes}
    out = []
    for route in plan.routes:
        found = deployed_routes.get(route.key)
        if found is not None and (found.access, found.scopes) != (route.access, route.scopes):
            was, planned = _admitting(found), _admitting(route)
            if was == planned:  # the same groups and machine scopes: say which scopes differ
                was, planned = _admitting(found, True), _admitting(route, True)
            out.append(f"{route.key} is deployed admitting {was}; the plan admits {planned}")
    return tuple(out)


def _admitting(route: Route, scopes: bool = False) -> str:
    text = f"{route.admits or 'no group'} ({route.access})"
    return f"{text} with scopes {' '.join(route.scopes) or '(none)'}" if scopes else text


def _password_tokens(target: Deployed, policy: RetryPolicy) -> dict[str, dict[TokenUse, str]]:
    from .signin import cognito_client, sign_in  # boto3 only where it is needed

    tokens: dict[str, dict[TokenUse, str]] = {}
    clients: dict[str, object] = {}
    for caller, how in target.sign_ins.items():
        if how.user_pool_id not in clients:
            clients[how.user_pool_id] = cognito_client(how.user_pool_id, policy.attempts,
                                                       policy.timeout, target.cognito_endpoint)
        tokens[caller] = sign_in(clients[how.user_pool_id], how.client_id, how.username,
                                 how.password)
    return tokens


def _code_flow_tokens(target: Deployed, policy: RetryPolicy) -> dict[str, dict[TokenUse, str]]:
    from . import code_flow

    problems = [f"{caller}: {problem}" for caller, how in target.sign_ins.items()
                if (problem := how.code_flow_problem())]
    if problems:
        raise VerifyError("cannot sign in through the hosted UI: " + "; ".join(problems))
    tokens = {}
    for caller, how in target.sign_ins.items():
        answer = code_flow.sign_in(how.hosted_ui, how.client_id, how.callback_url, how.scopes,
                                   how.username, how.password, timeout=policy.timeout)
        tokens[caller] = {TokenUse.ID: answer.get("id_token", ""),
                          TokenUse.ACCESS: answer["access_token"]}
    return tokens


def _machine_tokens(target: Deployed, policy: RetryPolicy) -> dict[str, str]:
    from . import code_flow

    return {caller: code_flow.client_credentials(how.token_url, how.client_id, how.client_secret,
                                                 caller, timeout=policy.timeout)
            for caller, how in target.machines.items()}


def mismatch_lines(outcomes: Sequence[Outcome]) -> list[str]:
    bad = [o for o in outcomes if not o.ok]
    if not bad:
        return [f"All {len(outcomes)} cells match."]
    rows = [[o.probe.caller, o.probe.route, f"expected {o.expected_text}, got {o.actual}"
             + (f" ({o.reason})" if o.reason else "")] for o in bad]
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    return [f"{len(bad)} mismatch{'es' if len(bad) != 1 else ''}:",
            *(f"  {r[0].ljust(widths[0])}  {r[1].ljust(widths[1])}  {r[2]}" for r in rows)]


def introduction(matrix: AccessMatrix, target: Deployed, users: Sequence[str],
                 sign_in_method: str = "password", machines: Sequence[str] = ()) -> list[str]:
    """What is about to be checked, and what the made-up callers are."""
    lines = [f"Verifying {target.label} with {target.token_use} tokens: {len(matrix.routes)} "
             f"routes, {len(users)} users signed in {SIGNED_IN_BY[sign_in_method]}"
             + (f", {len(machines)} machine client{'s' if len(machines) != 1 else ''} with "
                "the client credentials grant" if machines else "")]
    if users:
        lines += [f"{TAMPERED} is {users[0]}'s {matrix.token_use} token with one signature "
                  "character changed",
                  f"{OTHER_TOKEN} is {users[0]}'s {matrix.other_token} token, which carries no "
                  "group scope"]
    elif machines:
        lines.append(f"{TAMPERED} is {machines[0]}'s access token with one signature character "
                     "changed")
    if matrix.preflights:
        lines.append(f"{PREFLIGHT} is a browser's CORS preflight (OPTIONS, no token) for the "
                     "route's request")
    lines += [f"! {line}" for line in target.drift]
    return lines


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
        reason = ((o.reason or "(no error_description)") if o.actual == UNAUTHORIZED
                  else o.reason or "")
        self.line([o.probe.route, o.probe.caller, o.expected_text, str(o.actual),
                   "ok" if o.ok else "MISMATCH", reason])


def outcome_of(probe: Probe, answer: Answer) -> Outcome:
    """Judge one answer: the 401 reason API Gateway gave, or a preflight's missing CORS header."""
    reason = None
    if answer.status == UNAUTHORIZED:
        reason = error_description(answer.www_authenticate)
    elif probe.origin is not None and answer.allow_origin is None:
        reason = "no Access-Control-Allow-Origin in the answer"
    return Outcome(probe, answer.status, reason, answer.allow_origin)


def outcome_json(o: Outcome) -> dict:
    return {"route": o.probe.route, "caller": o.probe.caller, "method": o.probe.method,
            "path": o.probe.path, "expected": o.probe.expected, "actual": o.actual, "ok": o.ok,
            "reason": o.reason}


def report_json(target: Deployed, outcomes: Sequence[Outcome]) -> dict:
    """``verify --format json``: every outcome as data (``expected`` null: any 2xx)."""
    return {"schema": VERIFY_SCHEMA, "version": JSON_VERSION,
            "api_urls": sorted(set(target.api_urls.values())), "token_use": str(target.token_use),
            "drift": list(target.drift),
            "outcomes": [outcome_json(o) for o in outcomes],
            "mismatches": sum(not o.ok for o in outcomes)}


def run(matrix: AccessMatrix, live: StackModel, policy: RetryPolicy,
        out: TextIO | None = None, fmt: str = "table", sign_in_method: str = "password") -> int:
    """Sign in (``sign_in_method``: one of ``SIGN_IN_METHODS``), call every cell, print the
    report. 0: all match; 1: a mismatch. Raises ``VerifyError``, ``SignInError`` or
    ``Unreachable`` (exit 2) when the check cannot run."""
    out = out or sys.stdout
    target = deployed(matrix, live)
    if sign_in_method == "code":
        tokens = _code_flow_tokens(target, policy)
    else:
        tokens = _password_tokens(target, policy)
    machine_tokens = _machine_tokens(target, policy)
    todo = probes(matrix, tampered=bool(tokens or machine_tokens), other_token=bool(tokens))
    rows = None
    if fmt == "table":
        print(*introduction(matrix, target, list(tokens), sign_in_method, list(machine_tokens)),
              sep="\n", file=out)
        rows = _Rows(todo, out)
    outcomes = []
    default_url = next(iter(target.api_urls.values()), "")
    for p in todo:
        answer = call(url_for(target.api_urls.get(p.route, default_url), p.path), p.method,
                      token_for(p.caller, tokens, matrix.token_use, machine_tokens), policy,
                      dict(p.headers))
        outcomes.append(outcome_of(p, answer))
        if rows is not None:
            rows.outcome(outcomes[-1])
    if fmt == "json":
        print(json.dumps(report_json(target, outcomes), indent=2), file=out)
    else:
        print("", *mismatch_lines(outcomes), sep="\n", file=out)
    return 0 if all(o.ok for o in outcomes) else 1
