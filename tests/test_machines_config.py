"""Machines and several app clients, from the stack config to the registered resources: resource
servers, machine clients (secret, client credentials only, no user sign-in), user clients with
one group scope each, routes' machine scopes, and every bad input refused with its key before any
resource exists."""

from __future__ import annotations

import copy

import pytest

from jwt_scoped import aws_types as T
from jwt_scoped import rules as r
from jwt_scoped.identity_pool import MACHINE_AUTH_FLOWS, resource_scope_problem
from jwt_scoped.specs import ResourceServerSpec
from program.config import ConfigError, parse_settings

from access_configs import run_of
from fixtures.stacks import NS, stack_file_config

FUNCTIONS = {"hello"}


def machines_raw() -> dict:
    return {k.removeprefix(f"{NS}:"): v for k, v in stack_file_config("machines").items()
            if k.startswith(NS)}


def problems(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw, functions=FUNCTIONS)
    return caught.value.problems


@pytest.fixture(scope="module")
def run():
    return run_of(stack_file_config("machines"))


def by_name(run, typ: str) -> dict:
    return {res.inputs.get("name") or res.name: res for res in run.of_type(typ)}


def test_the_resource_server_defines_its_scopes(run):
    (server,) = run.of_type(T.RESOURCE_SERVER)
    assert server.inputs["identifier"] == "orders" and server.inputs["name"] == "orders"
    assert [s["scopeName"] for s in server.inputs["scopes"]] == ["read", "write"]
    assert server.inputs["userPoolId"] == run.one(T.USER_POOL).id
    assert server.parent_urn.endswith("ScopedIdentityPool::identity")


def test_machine_clients_have_a_secret_client_credentials_and_no_user_sign_in(run):
    clients = by_name(run, T.USER_POOL_CLIENT)
    partner = clients["partner"].inputs
    assert partner["generateSecret"] is True
    assert partner["allowedOauthFlows"] == ["client_credentials"]
    assert partner["allowedOauthScopes"] == ["orders/read", "orders/write"]
    assert partner["explicitAuthFlows"] == list(MACHINE_AUTH_FLOWS)
    assert "callbackUrls" not in partner
    assert clients["nightly-job"].inputs["allowedOauthScopes"] == ["orders/read"]


def test_machine_secrets_and_ids_are_outputs_and_the_secrets_are_secret(run):
    clients = by_name(run, T.USER_POOL_CLIENT)
    assert run.exports["machine_client_ids"] == {"nightly-job": clients["nightly-job"].id,
                                                 "partner": clients["partner"].id}
    secrets = run.exports["machine_client_secrets"]
    assert set(secrets) == {"nightly-job", "partner"}
    assert all(isinstance(v, str) and v for v in secrets.values())  # the clients' own outputs
    assert run.secret["machine_client_secrets"] is True
    assert run.secret["machine_client_ids"] is False


def test_each_app_client_is_public_and_only_the_web_one_has_the_hosted_ui(run):
    clients = by_name(run, T.USER_POOL_CLIENT)
    web, mobile = clients["web"].inputs, clients["mobile"].inputs
    assert web["generateSecret"] is False and mobile["generateSecret"] is False
    assert web["allowedOauthFlows"] == ["code"]
    assert web["callbackUrls"] == ["http://localhost:3000/callback"]
    assert web["logoutUrls"] == ["http://localhost:3000/"]
    assert "allowedOauthFlows" not in mobile and "callbackUrls" not in mobile
    assert "ALLOW_USER_SRP_AUTH" in mobile["explicitAuthFlows"]
    assert run.exports["app_client_ids"] == {"web": clients["web"].id,
                                             "mobile": clients["mobile"].id}
    assert run.exports["app_client_id"] == clients["web"].id
    assert f"client_id={clients['web'].id}" in run.exports["hosted_ui_url"]


def test_every_client_is_an_audience_and_routes_demand_a_scope_per_app_client(run):
    clients = by_name(run, T.USER_POOL_CLIENT)
    (authorizer,) = run.of_type(T.AUTHORIZER)
    assert sorted(authorizer.inputs["jwtConfiguration"]["audiences"]) == sorted(
        c.id for c in clients.values())
    routes = {res.inputs["routeKey"]: res.inputs.get("authorizationScopes")
              for res in run.of_type(T.ROUTE)}
    web, mobile = clients["web"].id, clients["mobile"].id
    assert routes["GET /AdminUser"] == [f"admin-{web}", f"admin-{mobile}"]
    assert routes["GET /Orders"] == ["orders/read"]
    assert routes["POST /Orders"] == [f"admin-{web}", f"admin-{mobile}", "orders/write"]


def test_without_app_clients_the_one_default_client_keeps_its_resource_name():
    run = run_of(stack_file_config("dev"))
    (client,) = run.of_type(T.USER_POOL_CLIENT)
    assert client.name == "identity-client" and "name" not in client.inputs
    assert run.exports["app_client_ids"] == {"app": client.id}
    assert run.exports["machine_client_ids"] == {} and run.exports["machine_client_secrets"] == {}


def test_a_route_over_the_scope_quota_is_refused_naming_it_and_the_count():
    raw = machines_raw()
    raw["appClients"] = [{"name": f"app{i}"} for i in range(4)]
    raw["groups"] = [{"name": "admin"}, {"name": "regular"}, {"name": "ops"}]
    raw["routes"][2]["groups"] = ["admin", "regular", "ops"]
    (problem,) = problems(raw)
    assert problem == (f"{NS}:routes[2]: 'POST /Orders' would demand 13 scopes: admin (4), "
                       "regular (4), ops (4), 1 machine scope; " + r.SCOPES_QUOTA)


def test_ten_scopes_exactly_pass():
    raw = machines_raw()
    raw["appClients"] = [{"name": "a"}, {"name": "b"}, {"name": "c"}]
    raw["groups"] = [{"name": "admin"}, {"name": "regular"}, {"name": "ops"}]
    raw["routes"][2]["groups"] = ["admin", "regular", "ops"]  # 9 group scopes + 1 machine scope
    parse_settings(raw, functions=FUNCTIONS)


def edited(edit):
    raw = copy.deepcopy(machines_raw())
    edit(raw)
    return raw


@pytest.mark.parametrize(("edit", "key", "culprit"), [
    (lambda c: c["routes"][1].update(machineScopes=["order/read"]), "routes[1].machineScopes[0]",
     "unknown resource server in scope 'order/read' (did you mean 'orders'?)"),
    (lambda c: c["routes"][1].update(machineScopes=["orders/delete"]),
     "routes[1].machineScopes[0]", "resource server 'orders' defines: read, write"),
    (lambda c: c["machineClients"][0].update(scopes=["orders/admin"]),
     "machineClients[0].scopes[0]", "unknown scope 'orders/admin'"),
    (lambda c: c["machineClients"][1].update(name="nightly-job"), "machineClients",
     "duplicate machine client 'nightly-job'"),
    (lambda c: c["machineClients"][0].update(name="web"), "machineClients[0].name",
     "'web' is an app client too"),
    (lambda c: c["appClients"].append({"name": "web"}), "appClients", "duplicate app client 'web'"),
    (lambda c: c.update(callbackUrls=["https://app.example.com/cb"]), "callbackUrls",
     "give each app client its own callback_urls"),
    (lambda c: c["machineClients"][0].update(callbackUrls=["https://x.example/cb"]),
     "machineClients[0].callbackUrls", "unknown key"),
    (lambda c: c["resourceServers"].append({"identifier": "orders", "scopes": ["x"]}),
     "resourceServers", "duplicate resource server identifier 'orders'"),
    (lambda c: c["resourceServers"][0].update(identifier="has space"),
     "resourceServers[0].identifier", "'has space'"),
    (lambda c: c["resourceServers"][0].update(scopes=["re/ad"]), "resourceServers[0].scopes[0]",
     "'re/ad'"),
    (lambda c: c["resourceServers"][0].update(scopes=[]), "resourceServers[0].scopes",
     r.RESOURCE_SCOPES_WHY),
    (lambda c: c["resourceServers"][0].update(scopes=[f"s{i}" for i in range(101)]),
     "resourceServers[0].scopes", r.RESOURCE_SCOPES_WHY),
    (lambda c: c.update(resourceServers=[{"identifier": f"api{i}", "scopes": ["x"]}
                                         for i in range(26)]),
     "resourceServers", r.RESOURCE_SERVERS_WHY),
    (lambda c: c["resourceServers"][0].update(identifier="https://api.example.com"),
     "resourceServers[0].name", "required"),
    (lambda c: c["routes"][1].update(machineScopes=["orders/read", "orders/read"]),
     "routes[1].machineScopes", "duplicate machine scope"),
    (lambda c: c["routes"][1].update(access="signed-in"), "routes[1].machineScopes",
     "admits every signed-in caller"),
    (lambda c: c["machineClients"][0].update(accessTokenValidityMinutes=1),
     "machineClients[0].accessTokenValidityMinutes", "1"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_machine_config_is_one_problem_naming_the_key(edit, key, culprit):
    found = problems(edited(edit))
    assert len(found) == 1, found
    assert found[0].startswith(f"{NS}:{key}: ") and culprit in found[0], found[0]


def test_more_clients_than_the_authorizer_takes_audiences_is_refused():
    found = problems(edited(lambda c: c.update(
        machineClients=[{"name": f"m{i}", "scopes": ["orders/read"]} for i in range(49)])))
    assert found == [f"{NS}:machineClients: 51 app clients in all, each an audience of the API: "
                     + r.AUDIENCES_QUOTA]


def test_a_scope_is_a_resource_servers_only_if_it_defines_it():
    servers = [ResourceServerSpec(identifier="https://api.example.com", name="api",
                                  scopes=["read"])]
    assert resource_scope_problem("https://api.example.com/read", servers) is None
    assert "defines: read" in resource_scope_problem("https://api.example.com/write", servers)
    assert "unknown resource server" in resource_scope_problem("read", servers)
