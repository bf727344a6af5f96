"""What changes between two access matrices: only what differs."""

from __future__ import annotations

import copy

from jwt_scoped.access import render
from jwt_scoped.access.diff import callers_admitted, diff_plans, routes_callable
from jwt_scoped.access.matrix import ANONYMOUS
from jwt_scoped.modes import RouteAccess

from access_configs import matrix_of
from fixtures.stacks import NS, blog_config


def edited(edit) -> dict:
    config = copy.deepcopy(blog_config())
    edit(config)
    return config


def changes(diff) -> list[tuple[str, str, int, int]]:
    return [(c.caller, c.route, c.before, c.after) for c in diff.changed]


def test_the_same_config_changes_nothing():
    diff = diff_plans(matrix_of(blog_config()), matrix_of(blog_config()))
    assert diff.is_empty
    assert diff.changed == () and diff.now_public == () and not diff.token_use_changed


def test_a_route_admitting_another_group_changes_exactly_those_cells():
    after = edited(lambda c: c[f"{NS}:routes"][0].update(groups=["admin", "regular"]))
    diff = diff_plans(matrix_of(blog_config()), matrix_of(after))
    assert changes(diff) == [("regularuser", "GET /AdminUser", 403, 200)]
    assert [(c.before.groups, c.after.groups) for c in diff.routes_changed] == [
        (("admin",), ("admin", "regular"))]
    assert [c.after.scopes for c in diff.routes_changed] == [
        ("admin-<appClientId>", "regular-<appClientId>")]
    assert not diff.is_empty and diff.now_public == ()


def test_a_user_leaving_a_group_loses_access():
    after = edited(lambda c: c[f"{NS}:users"][0].update(groups=["admin"]))
    diff = diff_plans(matrix_of(blog_config()), matrix_of(after))
    assert changes(diff) == [("adminuser", "GET /RegularUser", 200, 403)]
    assert [(u.before.groups, u.after.groups) for u in diff.users_changed] == [
        (("admin", "regular"), ("admin",))]
    assert diff.routes_changed == ()


def test_routes_and_users_added_and_removed_are_listed_not_diffed_cell_by_cell():
    def edit(c):
        c[f"{NS}:routes"].pop(1)
        c[f"{NS}:routes"].append({"route": "POST /Reports/{id}", "function": "hello",
                                  "groups": ["admin"]})
        c[f"{NS}:users"].pop(1)
        c[f"{NS}:users"].append({"username": "auditor", "groups": ["regular", "admin"]})
    after = matrix_of(edited(edit))
    diff = diff_plans(matrix_of(blog_config()), after)
    assert [r.key for r in diff.routes_added] == ["POST /Reports/{id}"]
    assert [r.key for r in diff.routes_removed] == ["GET /RegularUser"]
    assert [u.name for u in diff.users_added] == ["auditor"]
    assert [u.name for u in diff.users_removed] == ["regularuser"]
    assert diff.changed == ()  # adminuser keeps 200 on GET /AdminUser; the rest is new or gone
    assert callers_admitted(after, "POST /Reports/{id}") == ("adminuser", "auditor")
    assert routes_callable(after, "auditor") == ("GET /AdminUser", "POST /Reports/{id}")
    assert not diff.is_empty


def test_a_change_of_token_use_is_a_change():
    after = edited(lambda c: c.update({f"{NS}:tokenUse": "access"}))
    diff = diff_plans(matrix_of(blog_config()), matrix_of(after))
    assert diff.token_use_changed and not diff.is_empty and diff.changed == ()
    assert (diff.before.token_use, diff.after.token_use) == ("id", "access")


def test_a_route_that_becomes_public_is_named_on_its_own():
    def edit(c):
        c[f"{NS}:routes"][0] = {"route": "GET /AdminUser", "function": "hello",
                                "access": "public"}
        c[f"{NS}:routes"].append({"route": "GET /health", "function": "hello",
                                  "access": "public"})
        c[f"{NS}:routes"].append({"route": "GET /me", "function": "hello",
                                  "access": "signed-in"})
    diff = diff_plans(matrix_of(blog_config()), matrix_of(edited(edit)))
    assert [r.key for r in diff.now_public] == ["GET /health", "GET /AdminUser"]
    assert [(c.before.access, c.after.access) for c in diff.routes_changed] == [
        (RouteAccess.GROUPS, RouteAccess.PUBLIC)]
    assert ("regularuser", "GET /AdminUser", 403, 200) in changes(diff)
    assert (ANONYMOUS, "GET /AdminUser", 401, 200) in changes(diff)
    assert [r.key for r in diff.routes_added] == ["GET /health", "GET /me"]  # /me: not public


def test_a_public_route_made_protected_is_a_change_but_not_now_public():
    def edit(c):
        c[f"{NS}:routes"].append({"route": "GET /health", "function": "hello",
                                  "access": "public"})
    public = matrix_of(edited(edit))
    diff = diff_plans(public, matrix_of(blog_config()))
    assert diff.now_public == ()
    assert [r.key for r in diff.routes_removed] == ["GET /health"]


def test_the_loud_line_leads_the_table_and_the_pull_request_comment():
    def edit(c):
        c[f"{NS}:routes"][1]["access"] = "public"
        del c[f"{NS}:routes"][1]["groups"]
    diff = diff_plans(matrix_of(blog_config()), matrix_of(edited(edit)))
    table = render.render_diff(diff, "base", "head", "table").splitlines()
    assert table[1] == ("  !! GET /RegularUser becomes PUBLIC: anyone may call it, no token needed "
                        "(before: regular)")
    markdown = render.render_diff(diff, "base", "head", "markdown")
    assert ("> :rotating_light: **GET /RegularUser becomes PUBLIC: anyone may call it, no token "
            "needed (before: regular)**") in markdown.splitlines()


def test_against_a_plan_read_back_from_json_the_same_config_changes_nothing():
    """``plan --against base.json`` compares with the base branch's plan read back."""
    base = render.matrix_from_json(render.plan_json(matrix_of(blog_config()), "base"))
    assert diff_plans(base, matrix_of(blog_config())).is_empty
    after = edited(lambda c: c[f"{NS}:routes"][0].update(groups=["admin", "regular"]))
    assert changes(diff_plans(base, matrix_of(after))) == [
        ("regularuser", "GET /AdminUser", 403, 200)]
