"""An access matrix, or the difference of two, as a terminal table, Markdown or JSON. Pure.

JSON is for machines and its shape is stable: fields are only ever added, and any other change
bumps ``version``. Statuses are integers (401, 403, 200, 204); lists keep config order;
group scopes show the app client id as ``client_id_placeholder`` (``<clientId:NAME>`` with
several app clients); machine scopes are as written. Machine clients are callers like users
(``callers[].machine``), named ``machine <client name>``. Every field, by its path
(``[]``: each item of a list of objects; ``.*``: fields described elsewhere; a test holds
this list and the documents to each other):

Plan (``plan --format json``)::

    schema                           "jwt-scoped/access-plan"
    version                          2
    source                           the stack file read, e.g. "Pulumi.dev.yaml"
    client_id_placeholder            "<appClientId>"
    token_use                        "id" | "access": the token whose scopes group routes check
    other_token                      the other one: 403 on group routes, 200 on signed-in ones
    stage                            the stage name, e.g. "Test" or "$default"
    cors_origin                      the origin a preflight check sends; null without CORS
    routes[].route                   the route key as configured, e.g. "GET /AdminUser"
    routes[].access                  "public" | "signed-in" | "groups"
    routes[].sample_method           what verify sends: a request only this route answers
    routes[].sample_path             e.g. "/AdminUser"
    routes[].groups                  groups that may call it, any one (group access only)
    routes[].scopes                  e.g. ["admin-<appClientId>"]
    routes[].machine_scopes          the scopes no group grants, e.g. ["orders/read"]
    callers[].caller                 users, then machines ("machine nightly-job"), "(anonymous)"
    callers[].anonymous              true for "(anonymous)"
    callers[].machine                true for a machine client (client credentials grant)
    callers[].client                 the app client's name; null for anonymous
    callers[].groups                 the user's groups; [] for a machine
    callers[].scopes                 the scopes in its token (a machine's: all it may request)
    callers[].authorization_header_bytes   estimate; null for anonymous
    cells[].caller                   one cell per caller and route
    cells[].route
    cells[].status                   401 | 403 | 200
    cells[].scopes                   the caller's scopes the route accepts (group routes)
    preflights[].route               with CORS: the route whose request is preflighted
    preflights[].path                OPTIONS this path ...
    preflights[].method              ... asking for this method
    preflights[].answered_by         "API Gateway", or the route key that answers
    preflights[].status              204; null: a 2xx from a public route's function; 401
    warnings[].kind                  one of matrix.WARNING_KINDS
    warnings[].subject               the route, user or group concerned
    warnings[].message               one sentence for a reviewer

Difference (``plan --against FILE --format json``)::

    schema                           "jwt-scoped/access-diff"
    version                          2
    before                           the --against file
    after                            the stack file read
    token_use.before                 "id" | "access"
    token_use.after
    now_public                       route keys anyone may now call without a token
    changed[].caller                 a cell whose status changes
    changed[].route
    changed[].before                 e.g. 403
    changed[].after                  e.g. 200
    routes_added[].*                 a route, with the fields of the plan's routes[], and:
    routes_added[].callers           the callers who get 200 on it
    routes_removed[].*               a route, with the fields of the plan's routes[]
    routes_changed[].route           a route whose access, groups or machine scopes change
    routes_changed[].before.access   "public" | "signed-in" | "groups"
    routes_changed[].before.groups
    routes_changed[].before.scopes
    routes_changed[].before.machine_scopes
    routes_changed[].after.access
    routes_changed[].after.groups
    routes_changed[].after.scopes
    routes_changed[].after.machine_scopes
    users_added[].*                  a caller (user or machine), with the plan's callers[] fields:
    users_added[].routes             the routes it gets 200 on
    users_removed[].*                a caller, with the fields of the plan's callers[]
    users_changed[].caller           a user whose groups change, a machine whose scopes change
    users_changed[].before.groups
    users_changed[].before.scopes
    users_changed[].after.groups
    users_changed[].after.scopes
    warnings[].*                     the warnings of the "after" config, as in the plan
    plan.*                           the "after" plan, as above
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from jwt_scoped.modes import RouteAccess, TokenUse

from .diff import PlanDiff, callers_admitted, routes_callable
from .matrix import (
    CLIENT_ID_PLACEHOLDER,
    NAMED_CLIENT_PLACEHOLDER,
    AccessMatrix,
    Caller,
    Cell,
    Finding,
    Preflight,
    Route,
)

PLAN_SCHEMA = "jwt-scoped/access-plan"
DIFF_SCHEMA = "jwt-scoped/access-diff"
JSON_VERSION = 2
FORMATS = ("table", "markdown", "json")
LEGEND = ("200 allowed · 403 signed in, but no scope of the route · 401 no token or an invalid one")
TOKEN_NAMES = {"id": "ID token", "access": "access token"}


def token_line(matrix: AccessMatrix) -> str:
    """Which token the API takes, and what the other one gets."""
    taken, other = TOKEN_NAMES[matrix.token_use], TOKEN_NAMES[matrix.other_token]
    return (f"Group scopes are in the {taken}: send it. The {other} carries none: 403 on group "
            "routes, 200 on signed-in ones.")


# ---- JSON -----------------------------------------------------------------------------------

def route_json(route: Route) -> dict:
    return {"route": route.key, "access": route.access.value, "sample_method": route.method,
            "sample_path": route.path, "groups": list(route.groups), "scopes": list(route.scopes),
            "machine_scopes": list(route.machine_scopes)}


def preflight_json(preflight: Preflight) -> dict:
    return {"route": preflight.route, "path": preflight.path, "method": preflight.method,
            "answered_by": preflight.answered_by, "status": preflight.status}


def caller_json(caller: Caller) -> dict:
    return {"caller": caller.name, "anonymous": caller.anonymous, "machine": caller.machine,
            "client": caller.client, "groups": list(caller.groups),
            "scopes": list(caller.scopes), "authorization_header_bytes": caller.header_bytes}


def warning_json(finding: Finding) -> dict:
    return {"kind": finding.kind, "subject": finding.subject, "message": finding.message}


def plan_json(matrix: AccessMatrix, source: str) -> dict:
    return {
        "schema": PLAN_SCHEMA, "version": JSON_VERSION, "source": source,
        "client_id_placeholder": CLIENT_ID_PLACEHOLDER, "token_use": matrix.token_use.value,
        "other_token": matrix.other_token.value, "stage": matrix.stage_name,
        "cors_origin": matrix.cors_origin,
        "routes": [route_json(r) for r in matrix.routes],
        "callers": [caller_json(c) for c in matrix.callers],
        "cells": [{"caller": c.caller, "route": c.route, "status": c.status,
                   "scopes": list(c.scopes)} for c in matrix.cells],
        "preflights": [preflight_json(p) for p in matrix.preflights],
        "warnings": [warning_json(w) for w in matrix.warnings],
    }


class PlanJsonError(ValueError):
    """A document that is not a plan of this version."""


def is_plan_json(document: object) -> bool:
    return isinstance(document, dict) and document.get("schema") == PLAN_SCHEMA


def matrix_from_json(document: dict) -> AccessMatrix:
    """The matrix a ``plan --format json`` document describes (``plan --against`` reads the base
    branch's plan this way), fields added since version 2 began taken as absent when missing (a
    plan made before: no machine callers). Raises ``PlanJsonError`` for another schema or
    version."""
    if not is_plan_json(document) or document.get("version") != JSON_VERSION:
        raise PlanJsonError(f"not a {PLAN_SCHEMA} document of version {JSON_VERSION}")
    try:
        routes = tuple(Route(r["route"], r["sample_method"], r["sample_path"], tuple(r["groups"]),
                             tuple(r["scopes"]), RouteAccess(r["access"]),
                             machine_scopes=_strings(r.get("machine_scopes", [])))
                       for r in document["routes"])
        callers = tuple(Caller(c["caller"], tuple(c["groups"]), tuple(c["scopes"]),
                               c["authorization_header_bytes"], machine=_flag(c.get("machine", False)),
                               client=c.get("client")) for c in document["callers"])
        cells = tuple(Cell(c["caller"], c["route"], c["status"], tuple(c["scopes"]))
                      for c in document["cells"])
        preflights = tuple(Preflight(p["route"], p["path"], p["method"], p["answered_by"],
                                     p["status"]) for p in document["preflights"])
        warnings = tuple(Finding(w["kind"], w["subject"], w["message"])
                         for w in document["warnings"])
        return AccessMatrix(TokenUse(document["token_use"]), document["stage"], routes, callers,
                            cells, warnings, preflights, document["cors_origin"])
    except (KeyError, TypeError, ValueError) as error:
        raise PlanJsonError(f"a {PLAN_SCHEMA} document with a missing or bad field: {error}") from None


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of strings, got {value!r}")
    return tuple(value)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def diff_json(diff: PlanDiff, before: str, after: str) -> dict:
    def groups_and_scopes(x: Route | Caller) -> dict:
        return {"groups": list(x.groups), "scopes": list(x.scopes)}

    def access(route: Route) -> dict:
        return {"access": route.access.value, **groups_and_scopes(route),
                "machine_scopes": list(route.machine_scopes)}

    return {
        "schema": DIFF_SCHEMA, "version": JSON_VERSION, "before": before, "after": after,
        "token_use": {"before": diff.before.token_use.value, "after": diff.after.token_use.value},
        "now_public": [r.key for r in diff.now_public],
        "changed": [{"caller": c.caller, "route": c.route, "before": c.before, "after": c.after}
                    for c in diff.changed],
        "routes_added": [{**route_json(r), "callers": list(callers_admitted(diff.after, r.key))}
                         for r in diff.routes_added],
        "routes_removed": [route_json(r) for r in diff.routes_removed],
        "routes_changed": [{"route": c.after.key, "before": access(c.before),
                            "after": access(c.after)} for c in diff.routes_changed],
        "users_added": [{**caller_json(u), "routes": list(routes_callable(diff.after, u.name))}
                        for u in diff.users_added],
        "users_removed": [caller_json(u) for u in diff.users_removed],
        "users_changed": [{"caller": c.after.name, "before": groups_and_scopes(c.before),
                           "after": groups_and_scopes(c.after)} for c in diff.users_changed],
        "warnings": [warning_json(w) for w in diff.after.warnings],
        "plan": plan_json(diff.after, after),
    }


def to_json(document: dict) -> str:
    return json.dumps(document, indent=2) + "\n"


# ---- table (terminal) ---------------------------------------------------------------------

def columns(rows: Sequence[Sequence[str]], indent: str = "") -> list[str]:
    """Rows of cells, left-aligned in columns two spaces apart, without trailing blanks."""
    widths = [max(len(row[i]) for row in rows if i < len(row)) for i in range(max(map(len, rows)))]
    return [indent + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip()
            for row in rows]


def _header_size(caller: Caller) -> str:
    return "-" if caller.header_bytes is None else f"~{caller.header_bytes:,} bytes"


def _list(items: Sequence[str], empty: str = "-") -> str:
    return ", ".join(items) if items else empty


def _who(route: Route, code_span=str) -> str:
    """The last column of the route grid: the route's scopes, or who may call it."""
    if route.access is RouteAccess.PUBLIC:
        return "public: anyone, no token needed"
    if route.access is RouteAccess.SIGNED_IN:
        return "signed-in: any valid token"
    return " ".join(code_span(s) for s in route.scopes)


def _preflight_rows(matrix: AccessMatrix) -> list[list[str]]:
    return [[f"OPTIONS {p.path} (for {p.method})", p.answered_by,
             "2xx from its function" if p.status is None else str(p.status)]
            for p in matrix.preflights]


WHO_HEADER = "who may call (scopes: any one admits)"


MACHINE_LINE = ("Machine clients call with the access token of the client credentials grant: "
                "every scope the client may request, no user, no group.")


def _caller_rows(matrix: AccessMatrix, code_span=str) -> list[list[str]]:
    """Each user's and machine client's groups, token scopes and header estimate."""
    return [[c.name, _list(c.groups), " ".join(code_span(s) for s in c.scopes) or "-",
             _header_size(c)] for c in (*matrix.users, *matrix.machines)]


def _several_clients(matrix: AccessMatrix) -> bool:
    """Users sign in through several app clients: group scopes name each client's placeholder."""
    return len({c.client for c in matrix.users if c.client}) > 1


SEVERAL_CLIENTS = (f"<group>-{NAMED_CLIENT_PLACEHOLDER.format('NAME')}",
                   "one per app client users sign in through; the ids exist after deploy")


def plan_table(matrix: AccessMatrix, source: str) -> str:
    scopes = (f"Scopes are {SEVERAL_CLIENTS[0]} ({SEVERAL_CLIENTS[1]})."
              if _several_clients(matrix) else
              f"Scopes are <group>-{CLIENT_ID_PLACEHOLDER}; the app client id exists after deploy.")
    lines = [f"Access plan for {source} (token: {matrix.token_use}, stage: {matrix.stage_name})",
             scopes,
             token_line(matrix), *([MACHINE_LINE] if matrix.machines else []), ""]
    grid = [["route", *(c.name for c in matrix.callers), WHO_HEADER]]
    for route in matrix.routes:
        grid.append([route.key, *(str(matrix.cell(c.name, route.key).status)
                                  for c in matrix.callers), _who(route)])
    lines += columns(grid)
    lines += ["", LEGEND, ""]
    lines += columns([["caller", "groups", "scopes in token", "Authorization header"]]
                     + _caller_rows(matrix))
    if matrix.preflights:
        lines += ["", f"CORS preflights (Origin: {matrix.cors_origin}):",
                  *columns([["request", "answered by", "expected"], *_preflight_rows(matrix)],
                           indent="  ")]
    lines += ["", *warnings_table(matrix.warnings)]
    return "\n".join(lines) + "\n"


def warnings_table(warnings: Sequence[Finding]) -> list[str]:
    if not warnings:
        return ["Warnings: none"]
    return [f"Warnings ({len(warnings)}):", *(f"  ! {w.message}" for w in warnings)]


def _now_public(diff: PlanDiff) -> list[str]:
    """One loud sentence per route that anyone may now call without a token."""
    before = {r.key: r for r in diff.before.routes}
    return [f"{r.key} becomes PUBLIC: anyone may call it, no token needed (before: "
            f"{before[r.key].admits})" if r.key in before else
            f"{r.key} is a new PUBLIC route: anyone may call it, no token needed"
            for r in diff.now_public]


def diff_table(diff: PlanDiff, before: str, after: str) -> str:
    lines = [f"Access changes from {before} to {after}:"]
    lines += [f"  !! {sentence}" for sentence in _now_public(diff)]
    if diff.is_empty:
        lines.append("  no change in who can call what")
    if diff.token_use_changed:
        lines.append(f"  token use: {diff.before.token_use} -> {diff.after.token_use}")
    if diff.changed:
        lines += columns([[c.caller, c.route, f"{c.before} -> {c.after}"] for c in diff.changed],
                         indent="  ")
    for title, rows in _diff_sections(diff):
        lines += ["", f"{title}:", *columns(rows, indent="  ")]
    lines += ["", *warnings_table(diff.after.warnings)]
    return "\n".join(lines) + "\n"


def _diff_sections(diff: PlanDiff) -> list[tuple[str, list[list[str]]]]:
    """(title, rows) for the added, removed and changed routes and users; empty ones left out."""
    def admitted(route: str) -> str:
        return _list(callers_admitted(diff.after, route), "no configured user")

    def holds(caller: Caller) -> str:
        return f"scopes: {_list(caller.scopes)}" if caller.machine else \
            f"groups: {_list(caller.groups)}"

    def added(callers: Sequence[Caller]) -> list[list[str]]:
        return [[c.name, holds(c), f"200 on: {_list(routes_callable(diff.after, c.name), 'no route')}"]
                for c in callers]

    sections = [
        ("Routes added", [[r.key, f"admits {r.admits}", f"200 for: {admitted(r.key)}"]
                          for r in diff.routes_added]),
        ("Routes removed", [[r.key, f"admitted {r.admits}"] for r in diff.routes_removed]),
        ("Routes whose access changes", [[c.after.key, f"{c.before.admits} -> {c.after.admits}"]
                                         for c in diff.routes_changed]),
        ("Users added", added([u for u in diff.users_added if not u.machine])),
        ("Users removed", [[u.name, holds(u)] for u in diff.users_removed if not u.machine]),
        ("Users whose groups change", [[c.after.name, f"{_list(c.before.groups)} -> "
                                        f"{_list(c.after.groups)}"]
                                       for c in diff.users_changed if not c.after.machine]),
        ("Machine clients added", added([u for u in diff.users_added if u.machine])),
        ("Machine clients removed", [[u.name, holds(u)] for u in diff.users_removed if u.machine]),
        ("Machine clients whose scopes change", [[c.after.name, f"{_list(c.before.scopes)} -> "
                                                  f"{_list(c.after.scopes)}"]
                                                 for c in diff.users_changed if c.after.machine]),
    ]
    return [(title, rows) for title, rows in sections if rows]


# ---- Markdown -----------------------------------------------------------------------------

def code(text: str) -> str:
    """Inline code: keeps ``<appClientId>`` from being read as HTML and ``{id}`` as is."""
    return f"`{text}`" if text else ""


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[str]) -> list[str]:
    return [_md_row(header), _md_row(align), *(_md_row(r) for r in rows)]


def plan_markdown(matrix: AccessMatrix, source: str, heading: str = "###") -> str:
    shown, why = SEVERAL_CLIENTS if _several_clients(matrix) else (
        f"<group>-{CLIENT_ID_PLACEHOLDER}", "the client id exists after deploy")
    lines = [f"{heading} Who can call what: {code(source)}", "",
             f"Token: {code(matrix.token_use)} · stage: {code(matrix.stage_name)} · scopes are "
             f"{code(shown)} ({why})", "",
             token_line(matrix), "", *([MACHINE_LINE, ""] if matrix.machines else [])]
    lines += _md_table(
        ["route", *(c.name for c in matrix.callers), WHO_HEADER],
        [[code(r.key), *(str(matrix.cell(c.name, r.key).status) for c in matrix.callers),
          _who(r, code)] for r in matrix.routes],
        ["---", *(":-:" for _ in matrix.callers), "---"])
    lines += ["", LEGEND, ""]
    if matrix.users or matrix.machines:
        lines += _md_table(["caller" if matrix.machines else "user", "groups", "scopes in token",
                            "Authorization header (est.)"], _caller_rows(matrix, code),
                           ["---", "---", "---", "--:"])
        lines.append("")
    if matrix.preflights:
        lines += [f"CORS preflights (Origin: {code(matrix.cors_origin)}):", ""]
        lines += _md_table(["request", "answered by", "expected"],
                           [[code(a), code(b), c] for a, b, c in _preflight_rows(matrix)],
                           ["---", "---", ":-:"])
        lines.append("")
    lines += warnings_markdown(matrix.warnings)
    return "\n".join(lines) + "\n"


def warnings_markdown(warnings: Sequence[Finding]) -> list[str]:
    if not warnings:
        return ["**Warnings:** none"]
    return [f"**Warnings ({len(warnings)})**", "", *(f"- :warning: {_md_text(w.message)}"
                                                     for w in warnings)]


def _md_text(text: str) -> str:
    """Plain text for Markdown: angle brackets would be taken for HTML; arrows drawn."""
    return text.replace("->", "→").replace("<", "&lt;").replace(">", "&gt;")


def diff_markdown(diff: PlanDiff, before: str, after: str) -> str:
    lines = ["### Who can call what: changes", "",
             f"From {code(before)} (before) to {code(after)} (after).", ""]
    lines += [f"> :rotating_light: **{_md_text(sentence)}**" for sentence in _now_public(diff)]
    if diff.now_public:
        lines.append("")
    if diff.is_empty:
        lines += ["No change in who can call what.", ""]
    if diff.token_use_changed:
        lines += [f"Token use: {code(diff.before.token_use)} → {code(diff.after.token_use)}", ""]
    if diff.changed:
        lines += _md_table(["caller", "route", "before", "after"],
                           [[c.caller, code(c.route), str(c.before), f"**{c.after}**"]
                            for c in diff.changed], ["---", "---", ":-:", ":-:"])
        lines.append("")
    for title, rows in _diff_sections(diff):
        lines += [f"**{title}**", "", *(f"- {code(row[0])} " + " · ".join(_md_text(x) for x in row[1:])
                                        for row in rows), ""]
    lines += warnings_markdown(diff.after.warnings)
    lines += ["", "<details><summary>Full access plan (after)</summary>", "",
              plan_markdown(diff.after, after, heading="####").rstrip("\n"), "", "</details>"]
    return "\n".join(lines) + "\n"


# ---- entry points -------------------------------------------------------------------------

def render_plan(matrix: AccessMatrix, source: str, fmt: str) -> str:
    if fmt == "json":
        return to_json(plan_json(matrix, source))
    if fmt == "markdown":
        return plan_markdown(matrix, source)
    return plan_table(matrix, source)


def render_diff(diff: PlanDiff, before: str, after: str, fmt: str) -> str:
    if fmt == "json":
        return to_json(diff_json(diff, before, after))
    if fmt == "markdown":
        return diff_markdown(diff, before, after)
    return diff_table(diff, before, after)
