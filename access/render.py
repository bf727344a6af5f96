"""An access matrix, or the difference of two, as a terminal table, Markdown or JSON. Pure.

JSON is for machines and its shape is stable: fields are only ever added, and any other change
bumps ``version``. Statuses are integers (401, 403, 200); lists keep config order; ``scopes`` show
the app client id as ``client_id_placeholder``.

Plan (``plan --format json``)::

    {
      "schema": "jwt-scoped-api/access-plan",
      "version": 1,
      "source": "Pulumi.dev.yaml",                    # the stack file read
      "client_id_placeholder": "<appClientId>",
      "token_use": "id",                              # "id" or "access": the token that carries scopes
      "stage": "Test",
      "routes": [{"route": "GET /AdminUser",          # route key as configured
                  "sample_method": "GET",             # what verify sends ...
                  "sample_path": "/AdminUser",        # ... a request only this route answers
                  "groups": ["admin"],                # any one admits
                  "scopes": ["admin-<appClientId>"]}],
      "callers": [{"caller": "adminuser",             # users in config order, then "(anonymous)"
                   "anonymous": false,
                   "groups": ["admin", "regular"],
                   "scopes": ["admin-<appClientId>", "regular-<appClientId>"],
                   "authorization_header_bytes": 1149}],   # estimate; null for anonymous
      "cells": [{"caller": "adminuser", "route": "GET /AdminUser",
                 "status": 200,                       # 401 | 403 | 200
                 "scopes": ["admin-<appClientId>"]}], # the caller's scopes the route accepts
      "warnings": [{"kind": "route-nobody-can-call",  # one of matrix.WARNING_KINDS
                    "subject": "GET /Reports",        # the route, user or group concerned
                    "message": "..."}]
    }

Difference (``plan --against FILE --format json``)::

    {
      "schema": "jwt-scoped-api/access-diff",
      "version": 1,
      "before": "base/Pulumi.dev.yaml",              # the --against file
      "after": "Pulumi.dev.yaml",
      "token_use": {"before": "id", "after": "id"},
      "changed": [{"caller": "regularuser", "route": "GET /AdminUser", "before": 403, "after": 200}],
      "routes_added": [<route> + "callers": [users who get 200]],
      "routes_removed": [<route>],
      "routes_changed": [{"route": "GET /X", "before": {"groups": [...], "scopes": [...]},
                          "after": {"groups": [...], "scopes": [...]}}],
      "users_added": [<caller> + "routes": [routes it gets 200 on]],
      "users_removed": [<caller>],
      "users_changed": [{"caller": "bob", "before": {"groups": [...], "scopes": [...]},
                         "after": {"groups": [...], "scopes": [...]}}],
      "warnings": [<warning> of the "after" config],
      "plan": <the "after" plan object, as above>
    }
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from .diff import PlanDiff, callers_admitted, routes_callable
from .matrix import CLIENT_ID_PLACEHOLDER, AccessMatrix, Caller, Finding, Route

PLAN_SCHEMA = "jwt-scoped-api/access-plan"
DIFF_SCHEMA = "jwt-scoped-api/access-diff"
JSON_VERSION = 1
FORMATS = ("table", "markdown", "json")
LEGEND = ("200 allowed · 403 signed in, but no scope of the route · 401 no token or an invalid one")


# ---- JSON -----------------------------------------------------------------------------------

def route_json(route: Route) -> dict:
    return {"route": route.key, "sample_method": route.method, "sample_path": route.path,
            "groups": list(route.groups), "scopes": list(route.scopes)}


def caller_json(caller: Caller) -> dict:
    return {"caller": caller.name, "anonymous": caller.anonymous, "groups": list(caller.groups),
            "scopes": list(caller.scopes), "authorization_header_bytes": caller.header_bytes}


def warning_json(finding: Finding) -> dict:
    return {"kind": finding.kind, "subject": finding.subject, "message": finding.message}


def plan_json(matrix: AccessMatrix, source: str) -> dict:
    return {
        "schema": PLAN_SCHEMA, "version": JSON_VERSION, "source": source,
        "client_id_placeholder": CLIENT_ID_PLACEHOLDER, "token_use": matrix.token_use,
        "stage": matrix.stage_name,
        "routes": [route_json(r) for r in matrix.routes],
        "callers": [caller_json(c) for c in matrix.callers],
        "cells": [{"caller": c.caller, "route": c.route, "status": c.status,
                   "scopes": list(c.scopes)} for c in matrix.cells],
        "warnings": [warning_json(w) for w in matrix.warnings],
    }


def diff_json(diff: PlanDiff, before: str, after: str) -> dict:
    def groups_and_scopes(x: Route | Caller) -> dict:
        return {"groups": list(x.groups), "scopes": list(x.scopes)}

    return {
        "schema": DIFF_SCHEMA, "version": JSON_VERSION, "before": before, "after": after,
        "token_use": {"before": diff.before.token_use, "after": diff.after.token_use},
        "changed": [{"caller": c.caller, "route": c.route, "before": c.before, "after": c.after}
                    for c in diff.changed],
        "routes_added": [{**route_json(r), "callers": list(callers_admitted(diff.after, r.key))}
                         for r in diff.routes_added],
        "routes_removed": [route_json(r) for r in diff.routes_removed],
        "routes_changed": [{"route": c.after.key, "before": groups_and_scopes(c.before),
                            "after": groups_and_scopes(c.after)} for c in diff.routes_changed],
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


def plan_table(matrix: AccessMatrix, source: str) -> str:
    lines = [f"Access plan for {source} (token: {matrix.token_use}, stage: {matrix.stage_name})",
             f"Scopes are <group>-{CLIENT_ID_PLACEHOLDER}; the app client id exists after deploy.",
             ""]
    grid = [["route", *(c.name for c in matrix.callers), "scopes (any one admits)"]]
    for route in matrix.routes:
        grid.append([route.key, *(str(matrix.cell(c.name, route.key).status)
                                  for c in matrix.callers), " ".join(route.scopes)])
    lines += columns(grid)
    lines += ["", LEGEND, ""]
    lines += columns([["caller", "groups", "scopes in token", "Authorization header"]]
                     + [[c.name, _list(c.groups), " ".join(c.scopes) or "-", _header_size(c)]
                        for c in matrix.users])
    lines += ["", *warnings_table(matrix.warnings)]
    return "\n".join(lines) + "\n"


def warnings_table(warnings: Sequence[Finding]) -> list[str]:
    if not warnings:
        return ["Warnings: none"]
    return [f"Warnings ({len(warnings)}):", *(f"  ! {w.message}" for w in warnings)]


def diff_table(diff: PlanDiff, before: str, after: str) -> str:
    lines = [f"Access changes from {before} to {after}:"]
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

    sections = [
        ("Routes added", [[r.key, f"admits {_list(r.groups)}", f"200 for: {admitted(r.key)}"]
                          for r in diff.routes_added]),
        ("Routes removed", [[r.key, f"admitted {_list(r.groups)}"] for r in diff.routes_removed]),
        ("Routes whose groups change", [[c.after.key, f"{_list(c.before.groups)} -> "
                                         f"{_list(c.after.groups)}"] for c in diff.routes_changed]),
        ("Users added", [[u.name, f"groups: {_list(u.groups)}",
                          f"200 on: {_list(routes_callable(diff.after, u.name), 'no route')}"]
                         for u in diff.users_added]),
        ("Users removed", [[u.name, f"groups: {_list(u.groups)}"] for u in diff.users_removed]),
        ("Users whose groups change", [[c.after.name, f"{_list(c.before.groups)} -> "
                                        f"{_list(c.after.groups)}"] for c in diff.users_changed]),
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
    lines = [f"{heading} Who can call what: {code(source)}", "",
             f"Token: {code(matrix.token_use)} · stage: {code(matrix.stage_name)} · scopes are "
             f"{code('<group>-' + CLIENT_ID_PLACEHOLDER)} (the client id exists after deploy)", ""]
    lines += _md_table(
        ["route", *(c.name for c in matrix.callers), "scopes (any one admits)"],
        [[code(r.key), *(str(matrix.cell(c.name, r.key).status) for c in matrix.callers),
          " ".join(code(s) for s in r.scopes)] for r in matrix.routes],
        ["---", *(":-:" for _ in matrix.callers), "---"])
    lines += ["", LEGEND, ""]
    if matrix.users:
        lines += _md_table(["user", "groups", "scopes in token", "Authorization header (est.)"],
                           [[c.name, _list(c.groups), " ".join(code(s) for s in c.scopes) or "-",
                             _header_size(c)] for c in matrix.users],
                           ["---", "---", "---", "--:"])
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
