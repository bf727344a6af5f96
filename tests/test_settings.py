"""Stack config validation: every bad input is refused with its key and value named, all
culprits at once, before the program registers anything."""

from __future__ import annotations

import copy

import pulumi
import pytest

from jwt_scoped.http_api import ApiRoute
from jwt_scoped.identity_pool import ScopedIdentityPoolArgs
from jwt_scoped.modes import RouteAccess
from jwt_scoped.recording import RecordingMocks, run_program
from jwt_scoped.specs import GroupSpec, UserSpec
from program.config import ConfigError, decode_config_value, parse_settings, parse_stack_config

from fixtures.stacks import NS, PROJECT, blog_config

FUNCTIONS = {"hello", "other"}


def blog_raw() -> dict:
    """The blog config as parse_settings takes it: namespace stripped, values decoded."""
    return {k.removeprefix(f"{NS}:"): v for k, v in blog_config().items() if k.startswith(NS)}


def problems(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw, functions=FUNCTIONS)
    return caught.value.problems


def one_problem(raw: dict) -> str:
    found = problems(raw)
    assert len(found) == 1, found
    return found[0]


def test_the_blog_config_parses_to_the_blogs_system():
    settings = parse_settings(blog_raw(), functions=FUNCTIONS)
    assert settings.identity.groups == (
        GroupSpec(name="admin", description="Calls the admin routes"), GroupSpec(name="regular"))
    assert settings.identity.users == (
        UserSpec(username="adminuser", groups=("admin", "regular")),
        UserSpec(username="regularuser", groups=("regular",)))
    assert settings.routes == (
        ApiRoute(route_key="GET /AdminUser", function="hello", scopes=("admin",)),
        ApiRoute(route_key="GET /RegularUser", function="hello", scopes=("regular",)))
    assert settings.api["stage_name"] == "Test"
    assert settings.identity.token_use == "id"
    assert settings.identity.protect is False
    assert settings.functions == ("hello",)


def test_defaults_apply_to_every_optional_key():
    minimal = {"groups": [{"name": "a"}],
               "routes": [{"route": "GET /", "function": "hello", "groups": ["a"]}]}
    settings = parse_settings(minimal, functions=FUNCTIONS)
    # The components' own defaults, untouched: the config layer sets only what is given.
    assert settings.identity == ScopedIdentityPoolArgs(groups=settings.identity.groups)
    assert set(settings.api) == {"routes"}
    assert (settings.identity.token_use, settings.identity.protect,
            tuple(settings.identity.users)) == ("id", True, ())


def test_values_as_pulumi_hands_them_over_are_decoded():
    assert decode_config_value('[{"name": "admin"}]') == [{"name": "admin"}]
    assert decode_config_value("14") == 14
    assert decode_config_value("false") is False
    assert decode_config_value("Test") == "Test"
    assert decode_config_value("$default") == "$default"
    raw = blog_raw() | {"logRetentionDays": "14", "protectUserPool": "true",
                        "throttlingRateLimit": "2.5"}
    settings = parse_settings(raw, functions=FUNCTIONS)
    assert (settings.identity.log_retention_days, settings.api["log_retention_days"],
            settings.identity.protect, settings.api["throttling_rate_limit"]) == (14, 14, True, 2.5)


@pytest.mark.parametrize("edit, key, culprit", [
    (lambda c: c["routes"][0].update(groups=["admn"]), "routes[0].groups", "'admn'"),
    (lambda c: c["users"][1].update(groups=["regular", "ghost"]), "users[1].groups", "'ghost'"),
    (lambda c: c["routes"].append(dict(c["routes"][0])), "routes", "'GET /AdminUser'"),
    (lambda c: c["routes"][0].update(route="FETCH /AdminUser"), "routes[0].route", "'FETCH'"),
    (lambda c: c["routes"][0].update(route="GET AdminUser"), "routes[0].route", "'AdminUser'"),
    (lambda c: c["routes"][0].update(route="/AdminUser"), "routes[0].route", "'/AdminUser'"),
    (lambda c: c["routes"][0].update(route="GET /a//b"), "routes[0].route", "'GET /a//b'"),
    (lambda c: c["routes"][0].update(route="GET /{proxy+}/x"), "routes[0].route", "'{proxy+}'"),
    (lambda c: c["routes"][0].update(function="helo"), "routes[0].function",
     "unknown function 'helo' (did you mean 'hello'?)"),
    (lambda c: c["routes"][0].update(function="trigger"), "routes[0].function", "'trigger'"),
    (lambda c: c["routes"][0].update(function="../etc"), "routes[0].function", "'../etc'"),
    (lambda c: c["groups"].append({"name": "has space"}), "groups[2].name", "'has space'"),
    (lambda c: c["groups"].append({"name": 'q"uote'}), "groups[2].name", "'q\"uote'"),
    (lambda c: c["groups"].append({"name": "x" * 129}), "groups[2].name", "'xxxx"),
    (lambda c: c["groups"].append({"name": "admin"}), "groups", "'admin'"),
    (lambda c: c["users"].append({"username": "AdminUser"}), "users", "'adminuser'"),
    (lambda c: c["users"].append({"username": "two words"}), "users[2].username", "'two words'"),
    (lambda c: c.update(tokenUse="refresh"), "tokenUse", "'refresh'"),
    (lambda c: c.update(stageName="my stage"), "stageName", "'my stage'"),
    (lambda c: c.update(callbackUrls=["http://example.com/cb"]), "callbackUrls[0]",
     "'http://example.com/cb'"),
    (lambda c: c.update(callbackUrls=[]), "callbackUrls", "got 0"),
    (lambda c: c.update(domainPrefix="My_Prefix"), "domainPrefix", "'My_Prefix'"),
    (lambda c: c.update(domainPrefix="my-cognito-login"), "domainPrefix", "'cognito'"),
    (lambda c: c.update(logRetentionDays=13), "logRetentionDays", "13"),
    (lambda c: c.update(idTokenValidityMinutes=2), "idTokenValidityMinutes", "2"),
    (lambda c: c.update(refreshTokenValidityDays="soon"), "refreshTokenValidityDays", "'soon'"),
    (lambda c: c.update(throttlingBurstLimit=-1), "throttlingBurstLimit", "-1"),
    (lambda c: c.update(protectUserPool="yes"), "protectUserPool", "'yes'"),
    (lambda c: c.update(corsOrigins=["https://a.example/path"]), "corsOrigins[0]",
     "'https://a.example/path'"),
    (lambda c: c.update(corsOrigins=["https://app.example.com/"]), "corsOrigins[0]",
     "use 'https://app.example.com'"),
    (lambda c: c["routes"][0].update(access="private"), "routes[0].access", "'private'"),
    (lambda c: c["routes"][0].update(access="public"), "routes[0].groups", "'public' admits everyone"),
    (lambda c: c["routes"][0].update(access="signed-in"), "routes[0].groups",
     "admits every signed-in caller"),
    (lambda c: (c["routes"][0].update(access="groups"), c["routes"][0].pop("groups")),
     "routes[0].groups", "names no scope (group) that may call it"),
    (lambda c: c.update(route=[]), "route", "'routes'"),
    (lambda c: c["routes"][0].update(group=["admin"]), "routes[0].group", "'groups'"),
    (lambda c: c["routes"][0].update(groups=[]), "routes[0].groups", "names no scope (group)"),
    (lambda c: c["routes"][0].update(groups=["admin", "admin"]), "routes[0].groups", "'admin'"),
    (lambda c: c.update(groups=[]), "groups", "groups are what routes admit"),
    (lambda c: c.update(routes="GET /x"), "routes", "'GET /x'"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_config_names_the_key_and_the_culprit(edit, key, culprit):
    raw = copy.deepcopy(blog_raw())
    edit(raw)
    found = problems(raw)
    assert any(p.startswith(f"{NS}:{key}: ") and culprit in p for p in found), found


def test_more_than_ten_groups_on_a_route_is_refused():
    raw = blog_raw()
    raw["groups"] = [{"name": f"g{i}"} for i in range(11)]
    raw["users"] = []
    raw["routes"] = [{"route": "GET /x", "function": "hello",
                      "groups": [f"g{i}" for i in range(11)]}]
    message = one_problem(raw)
    assert message == (f"{NS}:routes[0].groups: expected 0 to 10 entries, got 11: API Gateway "
                       "allows at most 10 scopes per route (hard quota)")
    raw["routes"][0]["groups"].pop()
    assert len(parse_settings(raw, functions=FUNCTIONS).routes[0].scopes) == 10


def test_more_than_three_hundred_routes_is_refused():
    raw = blog_raw()
    raw["routes"] = [{"route": f"GET /r{i}", "function": "hello", "groups": ["admin"]}
                     for i in range(301)]
    assert one_problem(raw) == (f"{NS}:routes: expected 1 to 300 entries, got 301: an HTTP API "
                                "holds at most 300 routes (a quota AWS can raise)")


def test_every_culprit_is_reported_at_once():
    raw = blog_raw()
    raw["routes"][0]["groups"] = ["admn"]
    raw["routes"][1]["function"] = "nope"
    raw["users"][0]["groups"] = ["ghost"]
    raw["tokenUse"] = "both"
    found = problems(raw)
    assert len(found) == 4
    assert {p.split(": ")[0] for p in found} == {
        f"{NS}:routes[0].groups", f"{NS}:routes[1].function", f"{NS}:users[0].groups",
        f"{NS}:tokenUse"}


def test_a_misspelt_key_gets_a_suggestion():
    raw = blog_raw()
    raw["stagename"] = raw.pop("stageName")
    assert "did you mean 'stageName'?" in one_problem(raw)


def test_missing_required_keys_are_named_once_each():
    assert problems({}) == [f"{NS}:groups: required", f"{NS}:routes: required"]


@pytest.mark.parametrize("key", ["groups", "routes"])
def test_a_missing_required_key_is_one_problem_not_a_cascade(key):
    raw = blog_raw()
    del raw[key]
    assert problems(raw) == [f"{NS}:{key}: required"]


def test_a_group_with_one_bad_field_is_still_a_group_the_routes_may_name():
    raw = blog_raw()
    raw["groups"][0]["precedence"] = "ok"
    assert one_problem(raw) == f"{NS}:groups[0].precedence: precedence must be a whole number, got 'ok'"


def test_a_list_written_as_one_string_is_refused_with_the_yaml_list_form():
    raw = blog_raw() | {"callbackUrls": "https://a.example.com/cb, https://b.example.com/cb"}
    assert one_problem(raw) == (
        f"{NS}:callbackUrls: expected a list, got the single string "
        "'https://a.example.com/cb, https://b.example.com/cb'; write a YAML list, one item per "
        f"line:\n      {NS}:callbackUrls:\n        - https://a.example.com/cb\n"
        "        - https://b.example.com/cb")
    raw["callbackUrls"] = "https://a.example.com/cb"  # one item: `pulumi config set` writes this
    assert parse_settings(raw, functions=FUNCTIONS).identity.callback_urls == (
        "https://a.example.com/cb",)


def test_route_access_modes():
    raw = blog_raw()
    raw["routes"] += [{"route": "GET /health", "function": "hello", "access": "public"},
                      {"route": "GET /me", "function": "other", "access": "signed-in"},
                      {"route": "GET /x", "function": "other", "access": "groups",
                       "groups": ["admin"]}]
    routes = parse_settings(raw, functions=FUNCTIONS).routes
    assert [(r.access, tuple(r.scopes or ())) for r in routes] == [
        (RouteAccess.GROUPS, ("admin",)), (RouteAccess.GROUPS, ("regular",)),
        (RouteAccess.PUBLIC, ()), (RouteAccess.SIGNED_IN, ()), (RouteAccess.GROUPS, ("admin",))]


def test_a_namespace_one_typo_away_is_refused_naming_the_key_it_meant():
    config = {f"{NS}:{k}": v for k, v in blog_raw().items()}
    config |= {"jwt-scoped-apii:stageName": "Prod", "aws:region": "us-east-1"}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(config, functions=FUNCTIONS)
    assert caught.value.problems == [
        "jwt-scoped-apii:stageName: namespace 'jwt-scoped-apii' is not this project's; did you "
        f"mean '{NS}:stageName'?"]


def test_the_program_refuses_bad_config_before_registering_anything():
    config = blog_config()
    config[f"{NS}:routes"][0]["groups"] = ["admn"]
    config[f"{NS}:tokenUse"] = "both"
    mocks = RecordingMocks()
    with pytest.raises(pulumi.RunError) as caught:
        run_program(PROJECT, config, mocks=mocks)
    assert mocks.registered == []
    message = str(caught.value)
    assert f"{NS}:routes[0].groups: unknown scope 'admn' (did you mean 'admin'?)" in message
    assert f"{NS}:tokenUse: unknown token use 'both'" in message


def test_the_program_reports_unknown_keys_of_its_namespace_only():
    config = blog_config()
    config[f"{NS}:tokenUsage"] = "id"
    config["aws:profile"] = "someone"  # other namespaces are not ours to judge
    with pytest.raises(pulumi.RunError, match=f"{NS}:tokenUsage: unknown config key"):
        run_program(PROJECT, config)
