"""A matrix or a diff as a terminal table, Markdown and versioned JSON."""

from __future__ import annotations

import copy
import json

import pytest

from access import render
from access.diff import diff_plans
from access.matrix import ANONYMOUS, build_matrix
from offline.stacks import NS, blog_config, scaled_config

from access_configs import settings_of


@pytest.fixture
def blog():
    return build_matrix(settings_of(blog_config()))


@pytest.fixture
def widened():
    config = copy.deepcopy(blog_config())
    config[f"{NS}:routes"][0]["groups"] = ["admin", "regular"]
    config[f"{NS}:groups"].append({"name": "orphans"})
    return build_matrix(settings_of(config))


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


def test_table_has_a_row_per_route_and_a_column_per_caller(blog):
    text = render.render_plan(blog, "Pulumi.dev.yaml", "table")
    header = next(line for line in text.splitlines() if line.startswith("route "))
    assert header.split()[1:4] == ["adminuser", "regularuser", ANONYMOUS]
    assert grid_rows(text) == {"GET /AdminUser": ["200", "403", "401", "admin-<appClientId>"],
                               "GET /RegularUser": ["200", "200", "401", "regular-<appClientId>"]}
    assert "Warnings: none" in text
    assert "token: id, stage: Test" in text


def test_table_lists_each_users_scopes_and_header_estimate(blog):
    text = render.render_plan(blog, "Pulumi.dev.yaml", "table")
    line = next(line for line in text.splitlines() if line.startswith("adminuser "))
    assert "admin-<appClientId> regular-<appClientId>" in line
    assert f"~{blog.callers[0].header_bytes:,} bytes" in line


def test_table_shows_warnings():
    text = render.render_plan(build_matrix(settings_of(scaled_config())), "x.yaml", "table")
    assert "Warnings (1):" in text
    assert "! nobody can call no route (groups: no group)" in text


def test_markdown_is_a_table_with_scopes_in_code_so_placeholders_survive(blog):
    text = render.render_plan(blog, "Pulumi.dev.yaml", "markdown")
    assert "| route | adminuser | regularuser | (anonymous) | scopes (any one admits) |" in text
    assert "| `GET /AdminUser` | 200 | 403 | 401 | `admin-<appClientId>` |" in text
    # Outside code spans `<appClientId>` would be swallowed as an HTML tag.
    assert "<appClientId>" not in text.replace("`admin-<appClientId>`", "").replace(
        "`regular-<appClientId>`", "").replace("`<group>-<appClientId>`", "")


def test_markdown_warnings_escape_angle_brackets():
    config = copy.deepcopy(blog_config())
    config[f"{NS}:groups"].append({"name": "orphans"})
    text = render.render_plan(build_matrix(settings_of(config)), "x", "markdown")
    assert "- :warning: group orphans is admitted by no route" in text


def test_json_plan_has_the_documented_shape(blog):
    document = json.loads(render.render_plan(blog, "Pulumi.dev.yaml", "json"))
    assert list(document) == ["schema", "version", "source", "client_id_placeholder", "token_use",
                              "stage", "routes", "callers", "cells", "warnings"]
    assert document["schema"] == "jwt-scoped-api/access-plan" and document["version"] == 1
    assert document["routes"][0] == {"route": "GET /AdminUser", "sample_method": "GET",
                                     "sample_path": "/AdminUser", "groups": ["admin"],
                                     "scopes": ["admin-<appClientId>"]}
    assert document["callers"][0] == {
        "caller": "adminuser", "anonymous": False, "groups": ["admin", "regular"],
        "scopes": ["admin-<appClientId>", "regular-<appClientId>"],
        "authorization_header_bytes": blog.callers[0].header_bytes}
    assert document["callers"][-1]["authorization_header_bytes"] is None
    assert document["cells"][1] == {"caller": "adminuser", "route": "GET /RegularUser",
                                    "status": 200, "scopes": ["regular-<appClientId>"]}
    assert {(c["caller"], c["route"]): c["status"] for c in document["cells"]}[
        ("regularuser", "GET /AdminUser")] == 403


def test_the_json_shape_is_what_the_module_docstring_documents(blog, widened):
    doc = render.__doc__
    plan = render.plan_json(blog, "x")
    diff = render.diff_json(diff_plans(blog, widened), "a", "b")
    for key in [*plan, *plan["routes"][0], *plan["callers"][0], *plan["cells"][0], *diff]:
        assert f'"{key}"' in doc, f"{key} is not documented in access/render.py"


def test_diff_table_lists_changed_cells_as_before_arrow_after(blog, widened):
    text = render.render_diff(diff_plans(blog, widened), "base.yaml", "Pulumi.dev.yaml", "table")
    assert "  regularuser  GET /AdminUser  403 -> 200" in text.splitlines()
    assert "GET /AdminUser  admin -> admin, regular" in text
    assert "group orphans is admitted by no route" in text


def test_diff_table_says_when_nothing_changes(blog):
    text = render.render_diff(diff_plans(blog, blog), "a", "b", "table")
    assert "no change in who can call what" in text


def test_diff_markdown_for_a_pull_request(blog, widened):
    text = render.render_diff(diff_plans(blog, widened), "base/Pulumi.dev.yaml", "Pulumi.dev.yaml",
                              "markdown")
    assert "| regularuser | `GET /AdminUser` | 403 | **200** |" in text
    assert "- `GET /AdminUser` admin → admin, regular" in text
    assert "<details><summary>Full access plan (after)</summary>" in text
    assert "| `GET /AdminUser` | 200 | 200 | 401 |" in text  # the full plan, after the change


def test_diff_json(blog, widened):
    document = json.loads(render.render_diff(diff_plans(blog, widened), "a", "b", "json"))
    assert document["schema"] == "jwt-scoped-api/access-diff" and document["version"] == 1
    assert document["changed"] == [{"caller": "regularuser", "route": "GET /AdminUser",
                                    "before": 403, "after": 200}]
    assert document["routes_changed"][0]["after"]["groups"] == ["admin", "regular"]
    assert document["plan"]["schema"] == "jwt-scoped-api/access-plan"
    assert [w["kind"] for w in document["warnings"]] == ["group-without-route"]
