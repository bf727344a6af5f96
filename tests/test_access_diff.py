"""What changes between two access matrices: only what differs."""

from __future__ import annotations

import copy

from jwt_scoped.access.diff import callers_admitted, diff_plans, routes_callable
from jwt_scoped.access.matrix import build_matrix
from fixtures.stacks import NS, blog_config

from access_configs import settings_of


def matrix(config):
    return build_matrix(settings_of(config))


def edited(edit) -> dict:
    config = copy.deepcopy(blog_config())
    edit(config)
    return config


def test_the_same_config_changes_nothing():
    diff = diff_plans(matrix(blog_config()), matrix(blog_config()))
    assert diff.is_empty
    assert diff.changed == ()


def test_a_route_admitting_another_group_changes_exactly_those_cells():
    after = edited(lambda c: c[f"{NS}:routes"][0].update(groups=["admin", "regular"]))
    diff = diff_plans(matrix(blog_config()), matrix(after))
    assert [(c.caller, c.route, c.before, c.after) for c in diff.changed] == [
        ("regularuser", "GET /AdminUser", 403, 200)]
    assert [(c.before.groups, c.after.groups) for c in diff.routes_changed] == [
        (("admin",), ("admin", "regular"))]
    assert not diff.is_empty


def test_a_user_leaving_a_group_loses_access():
    after = edited(lambda c: c[f"{NS}:users"][0].update(groups=["admin"]))
    diff = diff_plans(matrix(blog_config()), matrix(after))
    assert [(c.caller, c.route, c.before, c.after) for c in diff.changed] == [
        ("adminuser", "GET /RegularUser", 200, 403)]
    assert [u.after.name for u in diff.users_changed] == ["adminuser"]


def test_routes_and_users_added_and_removed_are_listed_not_diffed_cell_by_cell():
    def edit(c):
        c[f"{NS}:routes"].pop(1)
        c[f"{NS}:routes"].append({"route": "POST /Reports/{id}", "function": "admin_user",
                                  "groups": ["admin"]})
        c[f"{NS}:users"].pop(1)
        c[f"{NS}:users"].append({"username": "auditor", "groups": ["regular", "admin"]})
    after = matrix(edited(edit))
    diff = diff_plans(matrix(blog_config()), after)
    assert [r.key for r in diff.routes_added] == ["POST /Reports/{id}"]
    assert [r.key for r in diff.routes_removed] == ["GET /RegularUser"]
    assert [u.name for u in diff.users_added] == ["auditor"]
    assert [u.name for u in diff.users_removed] == ["regularuser"]
    assert diff.changed == ()  # adminuser keeps 200 on GET /AdminUser; the rest is new or gone
    assert callers_admitted(after, "POST /Reports/{id}") == ("adminuser", "auditor")
    assert routes_callable(after, "auditor") == ("GET /AdminUser", "POST /Reports/{id}")


def test_a_change_of_token_use_is_a_change():
    after = edited(lambda c: c.update({f"{NS}:tokenUse": "access"}))
    diff = diff_plans(matrix(blog_config()), matrix(after))
    assert diff.token_use_changed and not diff.is_empty and diff.changed == ()


def test_a_route_that_becomes_public_is_named_on_its_own():
    def edit(c):
        c[f"{NS}:routes"][0] = {"route": "GET /AdminUser", "function": "admin_user",
                                "access": "public"}
        c[f"{NS}:routes"].append({"route": "GET /health", "function": "admin_user",
                                  "access": "public"})
        c[f"{NS}:routes"].append({"route": "GET /me", "function": "admin_user",
                                  "access": "signed-in"})
    diff = diff_plans(matrix(blog_config()), matrix(edited(edit)))
    assert [r.key for r in diff.now_public] == ["GET /health", "GET /AdminUser"]
    assert [(c.before.access, c.after.access) for c in diff.routes_changed] == [
        ("groups", "public")]
    assert ("regularuser", "GET /AdminUser", 403, 200) in [
        (c.caller, c.route, c.before, c.after) for c in diff.changed]
    assert ("(anonymous)", "GET /AdminUser", 401, 200) in [
        (c.caller, c.route, c.before, c.after) for c in diff.changed]


def test_the_loud_line_leads_the_table_and_the_pull_request_comment():
    from access import render

    after = edited(lambda c: c[f"{NS}:routes"][1].update(access="public") or c[f"{NS}:routes"][
        1].pop("groups"))
    diff = diff_plans(matrix(blog_config()), matrix(after))
    table = render.render_diff(diff, "base", "head", "table").splitlines()
    assert table[1] == ("  !! GET /RegularUser becomes PUBLIC: anyone may call it, no token needed "
                        "(before: regular)")
    markdown = render.render_diff(diff, "base", "head", "markdown")
    assert ("> :rotating_light: **GET /RegularUser becomes PUBLIC: anyone may call it, no token "
            "needed (before: regular)**") in markdown.splitlines()
