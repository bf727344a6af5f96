"""A matrix or a diff as a terminal table, Markdown and versioned JSON, and a plan's JSON read
back as the matrix it describes."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from jwt_scoped.access import render
from jwt_scoped.access.diff import diff_plans
from jwt_scoped.access.matrix import ANONYMOUS, WARNING_KINDS

from access_configs import matrix_of
from fixtures.stacks import NS, blog_config, scaled_config


@pytest.fixture
def blog():
    return matrix_of(blog_config())


@pytest.fixture
def widened():
    config = copy.deepcopy(blog_config())
    config[f"{NS}:routes"][0]["groups"] = ["admin", "regular"]
    config[f"{NS}:groups"].append({"name": "orphans"})
    return matrix_of(config)


def wide_config() -> dict:
    """Every list of a plan filled: CORS preflights, every access mode, a warning."""
    config = scaled_config()
    config[f"{NS}:groups"].append({"name": "orphans"})
    return config


def grid_rows(text: str) -> dict[str, list[str]]:
    """The route grid of a table: route key -> its cells."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("route "))
    rows = {}
    for line in lines[start + 1:]:
        if not line.strip():
            break
        method, path, *cells = line.split()
        rows[f"{method} {path}"] = cells
    return rows


# ---- table --------------------------------------------------------------------------------

def test_table_has_a_row_per_route_and_a_column_per_caller(blog):
    text = render.render_plan(blog, "Pulumi.dev.yaml", "table")
    header = next(line for line in text.splitlines() if line.startswith("route "))
    assert header.split()[1:4] == ["adminuser", "regularuser", ANONYMOUS]
    assert grid_rows(text) == {
        r.key: [*(str(blog.cell(c.name, r.key).status) for c in blog.callers), *r.scopes]
        for r in blog.routes}
    assert grid_rows(text)["GET /AdminUser"] == ["200", "403", "401", "admin-<appClientId>"]
    assert "Warnings: none" in text
    assert text.startswith("Access plan for Pulumi.dev.yaml (token: id, stage: Test)\n")


def test_table_lists_each_users_scopes_and_header_estimate(blog):
    text = render.render_plan(blog, "Pulumi.dev.yaml", "table")
    line = next(line for line in text.splitlines() if line.startswith("adminuser "))
    assert "admin-<appClientId> regular-<appClientId>" in line
    assert line.endswith(f"~{blog.callers[0].header_bytes:,} bytes")


def test_table_shows_warnings():
    config = copy.deepcopy(blog_config())
    config[f"{NS}:users"].append({"username": "nobody"})
    text = render.render_plan(matrix_of(config), "x.yaml", "table")
    assert "Warnings (1):" in text
    assert "  ! nobody can call no route (groups: no group)" in text.splitlines()


def test_table_says_which_token_the_api_takes(blog):
    text = render.render_plan(blog, "Pulumi.dev.yaml", "table")
    assert ("Group scopes are in the ID token: send it. The access token carries none: 403 on "
            "group routes, 200 on signed-in ones.") in text.splitlines()
    access = render.render_plan(matrix_of(scaled_config()), "x", "table")
    assert ("Group scopes are in the access token: send it. The ID token carries none: 403 on "
            "group routes, 200 on signed-in ones.") in access.splitlines()


def test_table_shows_public_and_signed_in_routes_and_the_preflights():
    matrix = matrix_of(scaled_config())
    lines = render.render_plan(matrix, "x.yaml", "table").splitlines()
    users = len(matrix.users)
    health = next(line for line in lines if line.startswith("GET /health "))
    assert health.split()[2:3 + users] == ["200"] * (users + 1)
    assert health.endswith("public: anyone, no token needed")
    me = next(line for line in lines if line.startswith("GET /me "))
    assert me.split()[2:3 + users] == ["200"] * users + ["401"]
    assert me.endswith("signed-in: any valid token")
    start = lines.index("CORS preflights (Origin: https://app.example.com):")
    assert lines[start + 1].split() == ["request", "answered", "by", "expected"]
    assert lines[start + 2].split() == ["OPTIONS", "/AdminUser", "(for", "GET)", "API", "Gateway",
                                        "204"]
    rows = lines[start + 2:start + 2 + len(matrix.preflights)]
    admin = next(line for line in rows if line.startswith("  OPTIONS /admin/sample "))
    assert admin.split()[4:] == ["OPTIONS", "/admin/{proxy+}", "204"]


# ---- Markdown -----------------------------------------------------------------------------

def test_markdown_is_a_table_with_scopes_in_code_so_placeholders_survive(blog):
    text = render.render_plan(blog, "Pulumi.dev.yaml", "markdown")
    assert ("| route | adminuser | regularuser | (anonymous) | who may call (scopes: any one "
            "admits) |") in text
    assert "| `GET /AdminUser` | 200 | 403 | 401 | `admin-<appClientId>` |" in text
    # Outside code spans `<appClientId>` would be swallowed as an HTML tag.
    assert "<appClientId>" not in text.replace("`admin-<appClientId>`", "").replace(
        "`regular-<appClientId>`", "").replace("`<group>-<appClientId>`", "")


def test_markdown_lists_the_warnings():
    config = copy.deepcopy(blog_config())
    config[f"{NS}:groups"].append({"name": "orphans"})
    text = render.render_plan(matrix_of(config), "x", "markdown")
    assert "- :warning: group orphans is admitted by no route: its scope opens nothing" in text


# ---- JSON ---------------------------------------------------------------------------------

def test_json_plan_has_the_documented_shape(blog):
    document = json.loads(render.render_plan(blog, "Pulumi.dev.yaml", "json"))
    assert list(document) == ["schema", "version", "source", "client_id_placeholder", "token_use",
                              "other_token", "stage", "cors_origin", "routes", "callers", "cells",
                              "preflights", "warnings"]
    assert document["schema"] == "jwt-scoped/access-plan" and document["version"] == 2
    assert document["source"] == "Pulumi.dev.yaml"
    assert (document["token_use"], document["other_token"]) == ("id", "access")
    assert document["routes"][0] == {"route": "GET /AdminUser", "access": "groups",
                                     "sample_method": "GET", "sample_path": "/AdminUser",
                                     "groups": ["admin"], "scopes": ["admin-<appClientId>"],
                                     "machine_scopes": []}
    assert document["callers"][0] == {
        "caller": "adminuser", "anonymous": False, "machine": False, "client": "identity-client",
        "groups": ["admin", "regular"], "scopes": ["admin-<appClientId>", "regular-<appClientId>"],
        "authorization_header_bytes": blog.callers[0].header_bytes}
    assert document["callers"][-1] == {"caller": ANONYMOUS, "anonymous": True, "machine": False,
                                       "client": None, "groups": [], "scopes": [],
                                       "authorization_header_bytes": None}
    assert document["cells"][1] == {"caller": "adminuser", "route": "GET /RegularUser",
                                    "status": 200, "scopes": ["regular-<appClientId>"]}
    assert {(c["caller"], c["route"]): c["status"] for c in document["cells"]} == {
        (c.caller, c.route): c.status for c in blog.cells}


def field_paths(value, prefix="") -> set[str]:
    """The field paths of a JSON document as the docstring spells them: ``routes[].route``,
    ``token_use.before``; a list of plain values is one field (``routes[].groups``); an empty
    list of objects says nothing of their fields, so it is left out."""
    paths = set()
    for key, item in value.items():
        path = f"{prefix}{key}"
        if item == [] and key not in ("groups", "scopes", "machine_scopes"):
            continue
        if isinstance(item, dict):
            paths |= field_paths(item, f"{path}.")
        elif isinstance(item, list) and item and isinstance(item[0], dict):
            for element in item:
                paths |= field_paths(element, f"{path}[].")
        else:
            paths.add(path)
    return paths


def documented(section: str) -> set[str]:
    """The field paths the module docstring lists under ``section``."""
    block = render.__doc__.split(section, 1)[1].split("::", 1)[1]
    paths = set()
    for line in block.splitlines()[2:]:
        if not line.startswith("    "):
            break
        paths.add(line.split()[0])
    return paths


def covered(paths: set[str], documented_paths: set[str]) -> set[str]:
    """The paths not covered by the documented ones (a ``.*`` entry covers everything below)."""
    wild = tuple(p[:-1] for p in documented_paths if p.endswith(".*"))
    return {p for p in paths if p not in documented_paths and not p.startswith(wild)}


def test_the_docstring_lists_fields_in_both_sections():
    """The parser below reads something: a docstring reshaped would not pass silently."""
    assert {"schema", "version", "routes[].route", "cells[].status"} <= documented("Plan (")
    assert {"schema", "changed[].after", "plan.*"} <= documented("Difference (")


def test_the_json_documents_have_exactly_the_documented_fields():
    """Both ways: no field goes undocumented, and nothing documented is missing. The documents
    come from configs that fill every list: CORS, every access mode, every kind of change."""
    wide = matrix_of(wide_config())
    assert field_paths(render.plan_json(wide, "x")) == documented("Plan (")

    public = copy.deepcopy(blog_config())
    public[f"{NS}:routes"][0] = {"route": "GET /AdminUser", "function": "hello",
                                 "access": "public"}
    public[f"{NS}:users"][1]["groups"] = ["admin"]
    blog = matrix_of(blog_config())
    diffs = [render.diff_json(diff_plans(blog, matrix_of(public)), "a", "b"),
             render.diff_json(diff_plans(blog, wide), "a", "b"),
             render.diff_json(diff_plans(wide, blog), "a", "b")]
    diff_fields = set().union(*(field_paths(d) for d in diffs))
    listed = documented("Difference (")
    assert covered(diff_fields, listed) == set()
    assert {p for p in listed if not p.endswith(".*")} <= diff_fields
    assert {p[:-4] for p in listed if p.endswith("[].*")} <= {
        p.split("[].")[0] for p in diff_fields}


def test_warning_kinds_in_the_json_are_the_documented_ones():
    document = render.plan_json(matrix_of(wide_config()), "x")
    assert document["warnings"] and {w["kind"] for w in document["warnings"]} <= set(WARNING_KINDS)


def stripped(matrix):
    """The matrix without what a plan's JSON does not carry: the resources' URNs."""
    return dataclasses.replace(
        matrix,
        routes=tuple(dataclasses.replace(r, urn=None) for r in matrix.routes),
        callers=tuple(dataclasses.replace(c, user_urn=None, client_urn=None)
                      for c in matrix.callers))


@pytest.mark.parametrize("config", [blog_config, wide_config], ids=["blog", "wide"])
def test_a_plans_json_reads_back_as_the_matrix_it_was_written_from(config):
    original = matrix_of(config())
    back = render.matrix_from_json(json.loads(render.render_plan(original, "x", "json")))
    assert back.routes == stripped(original).routes
    assert back.callers == stripped(original).callers
    assert back.cells == original.cells
    assert back.preflights == original.preflights
    assert back.warnings == original.warnings
    assert (back.token_use, back.stage_name, back.cors_origin) == (
        original.token_use, original.stage_name, original.cors_origin)
    assert back == stripped(original)


def test_a_document_of_another_schema_or_version_or_with_a_missing_field_is_refused(blog):
    document = render.plan_json(blog, "x")
    assert render.is_plan_json(document)
    assert not render.is_plan_json({**document, "schema": "jwt-scoped-api/access-plan"})
    assert not render.is_plan_json([document])
    with pytest.raises(render.PlanJsonError, match="of version 2"):
        render.matrix_from_json({**document, "version": 1})
    broken = copy.deepcopy(document)
    del broken["routes"][0]["access"]
    with pytest.raises(render.PlanJsonError, match="missing or bad field"):
        render.matrix_from_json(broken)
    broken = {**copy.deepcopy(document), "token_use": "both"}
    with pytest.raises(render.PlanJsonError, match="missing or bad field"):
        render.matrix_from_json(broken)


# ---- differences --------------------------------------------------------------------------

def test_diff_table_lists_changed_cells_as_before_arrow_after(blog, widened):
    text = render.render_diff(diff_plans(blog, widened), "base.yaml", "Pulumi.dev.yaml", "table")
    assert text.startswith("Access changes from base.yaml to Pulumi.dev.yaml:\n")
    assert "  regularuser  GET /AdminUser  403 -> 200" in text.splitlines()
    assert "GET /AdminUser  admin -> admin, regular" in text
    assert "group orphans is admitted by no route" in text


def test_diff_table_says_when_nothing_changes(blog):
    text = render.render_diff(diff_plans(blog, blog), "a", "b", "table")
    assert "no change in who can call what" in text
    assert "->" not in text


def test_diff_markdown_for_a_pull_request(blog, widened):
    text = render.render_diff(diff_plans(blog, widened), "base/Pulumi.dev.yaml", "Pulumi.dev.yaml",
                              "markdown")
    assert "| regularuser | `GET /AdminUser` | 403 | **200** |" in text
    assert "- `GET /AdminUser` admin → admin, regular" in text
    assert "<details><summary>Full access plan (after)</summary>" in text
    assert "| `GET /AdminUser` | 200 | 200 | 401 |" in text  # the full plan, after the change


def test_diff_json(blog, widened):
    document = json.loads(render.render_diff(diff_plans(blog, widened), "a", "b", "json"))
    assert document["schema"] == "jwt-scoped/access-diff" and document["version"] == 2
    assert (document["before"], document["after"]) == ("a", "b")
    assert document["changed"] == [{"caller": "regularuser", "route": "GET /AdminUser",
                                    "before": 403, "after": 200}]
    assert document["routes_changed"][0]["after"]["groups"] == ["admin", "regular"]
    assert document["plan"] == render.plan_json(widened, "b")
    assert [w["kind"] for w in document["warnings"]] == ["group-without-route"]
