"""Machines as callers in the sandbox: the token endpoint's client credentials grant (Cognito's
"The token issuer endpoint"), the tokens it issues, how the gateway admits them, and when the Pre
Token Generation trigger runs for them. The stack is ``Pulumi.machines.yaml``: resource server
``orders`` (read, write), machine clients nightly-job (orders/read) and partner (orders/read,
orders/write), and routes for a group, for machines and for both."""

from __future__ import annotations

import base64
import json

import jwt
import pytest
import requests

from fixtures.stacks import stack_file_config
from sandbox_harness import call, change, combined, function_code, sign_in, started

TRIGGER = "identity-pre-token"
NS = "jwt-scoped-api"


@pytest.fixture(scope="module")
def machines(tmp_path_factory):
    with started(stack_file_config("machines"), tmp_path_factory.mktemp("machines")) as sandbox:
        yield sandbox


def token_endpoint(sandbox) -> str:
    pool = sandbox.outputs["user_pool_id"]
    (base,) = sandbox.outputs["sandbox"]["user_pools"][pool]["domains"].values()
    return base + "/oauth2/token"


def credentials(sandbox, name: str) -> tuple[str, str]:
    return (sandbox.outputs["machine_client_ids"][name],
            sandbox.outputs["machine_client_secrets"][name])


def client_token(sandbox, name: str, **form) -> requests.Response:
    return requests.post(token_endpoint(sandbox), auth=credentials(sandbox, name),
                         data={"grant_type": "client_credentials", **form}, timeout=10)


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def statuses(sandbox, token: str | None) -> dict[str, int]:
    return {route: call(url, route.split()[0], token).status
            for route, url in sandbox.outputs["route_urls"].items()}


def test_the_resource_server_and_the_machine_clients_are_cognitos(machines):
    client = machines.cognito.client
    pool = machines.outputs["user_pool_id"]
    server = client.describe_resource_server(UserPoolId=pool, Identifier="orders")
    assert [s["ScopeName"] for s in server["ResourceServer"]["Scopes"]] == ["read", "write"]
    described = client.describe_user_pool_client(
        UserPoolId=pool, ClientId=machines.outputs["machine_client_ids"]["partner"])
    settings = described["UserPoolClient"]
    assert settings["AllowedOAuthFlows"] == ["client_credentials"]
    assert settings["AllowedOAuthScopes"] == ["orders/read", "orders/write"]
    assert settings["ClientSecret"] == machines.outputs["machine_client_secrets"]["partner"]


def test_a_client_credentials_token_is_an_access_token_of_the_client_without_aud(machines):
    answer = client_token(machines, "partner")
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) <= {"access_token", "expires_in", "token_type", "scope"}  # no ID token
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    claims = claims_of(body["access_token"])
    client_id = machines.outputs["machine_client_ids"]["partner"]
    assert claims["client_id"] == claims["sub"] == client_id
    assert claims["token_use"] == "access"
    assert claims["iss"] == machines.outputs["issuer_url"]
    assert claims["scope"].split() == ["orders/read", "orders/write"]  # none asked: all allowed
    assert "aud" not in claims and "username" not in claims and "cognito:groups" not in claims


def test_the_client_may_ask_for_fewer_scopes_in_the_body_or_by_basic_auth(machines):
    asked = client_token(machines, "partner", scope="orders/write").json()
    assert claims_of(asked["access_token"])["scope"] == "orders/write"
    client_id, secret = credentials(machines, "nightly-job")
    in_body = requests.post(token_endpoint(machines), timeout=10, data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
    assert in_body.status_code == 200
    assert claims_of(in_body.json()["access_token"])["client_id"] == client_id


@pytest.mark.parametrize(("form", "secret", "error"), [
    ({"scope": "orders/write"}, "right", "invalid_scope"),  # not a scope nightly-job may ask
    ({"scope": "openid"}, "right", "invalid_scope"),
    ({}, "wrong", "invalid_client"),
    ({}, None, "invalid_client"),  # no client authentication at all
    ({"grant_type": "password"}, "right", "unsupported_grant_type"),
])
def test_bad_client_credentials_requests_get_cognitos_errors(machines, form, secret, error):
    client_id, right = credentials(machines, "nightly-job")
    auth_pair = None if secret is None else (client_id, right if secret == "right" else "x")
    answer = requests.post(token_endpoint(machines), auth=auth_pair, timeout=10,
                           data={"grant_type": "client_credentials", **form})
    assert (answer.status_code, answer.json()["error"]) == (400, error)
    assert "access_token" not in answer.text


def test_a_user_client_cannot_use_client_credentials(machines):
    """The web client is public (no secret): no client authentication, no token."""
    answer = requests.post(token_endpoint(machines), timeout=10, data={
        "grant_type": "client_credentials", "client_id": machines.outputs["app_client_id"]})
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_client")


def test_a_confidential_client_without_the_grant_is_unauthorized(machines):
    pool = machines.outputs["user_pool_id"]
    client = machines.cognito.backend.create_user_pool_client(pool, True, {
        "ClientName": "no-m2m", "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthFlows": ["code"], "AllowedOAuthScopes": ["openid"],
        "CallbackURLs": ["https://example.com/cb"]})
    answer = requests.post(token_endpoint(machines), auth=(client.id, client.secret), timeout=10,
                           data={"grant_type": "client_credentials"})
    assert (answer.status_code, answer.json()["error"]) == (400, "unauthorized_client")


def test_the_gateway_admits_a_machine_by_its_scopes_and_never_by_a_group(machines):
    nightly = client_token(machines, "nightly-job").json()["access_token"]
    partner = client_token(machines, "partner").json()["access_token"]
    assert statuses(machines, nightly) == {"GET /AdminUser": 403, "GET /Orders": 200,
                                           "POST /Orders": 403, "GET /RegularUser": 403}
    assert statuses(machines, partner) == {"GET /AdminUser": 403, "GET /Orders": 200,
                                           "POST /Orders": 200, "GET /RegularUser": 403}
    # tokenUse access: adminuser's access token holds the admin group scopes, not orders/read.
    admin = sign_in(machines, "adminuser")["AccessToken"]
    assert statuses(machines, admin) == {"GET /AdminUser": 200, "GET /Orders": 403,
                                         "POST /Orders": 200, "GET /RegularUser": 200}


def test_a_token_with_the_scope_but_of_another_issuer_key_is_refused(machines):
    """A machine token with its signature changed: 401, as any tampered token."""
    token = client_token(machines, "partner").json()["access_token"]
    head, body, signature = token.split(".")
    forged_claims = {**claims_of(token), "scope": "orders/read orders/write admin-x"}
    forged = ".".join([head, base64.urlsafe_b64encode(json.dumps(forged_claims).encode())
                       .decode().rstrip("="), signature])
    assert call(machines.outputs["route_urls"]["GET /Orders"], "GET", forged).status == 401


def test_the_trigger_is_not_run_for_client_credentials_below_v3(tmp_path):
    """The stack's trigger is V2_0 (tokenUse access): a trigger that fails every call does not
    stop the machine's token, and it still stops a user's sign-in."""
    edit = function_code(TRIGGER, {"handler.py": "def handler(event, context):\n"
                                                 "    raise RuntimeError('no tokens today')\n"})
    with started(stack_file_config("machines"), tmp_path, edit=edit) as sandbox:
        assert client_token(sandbox, "partner").status_code == 200
        with pytest.raises(Exception, match="PreTokenGeneration failed"):
            sign_in(sandbox, "adminuser")


def test_a_v3_trigger_runs_for_client_credentials_and_shapes_the_token(tmp_path):
    """With LambdaVersion V3_0, Cognito runs the trigger for machines too (the event names
    TokenGeneration_ClientCredentials and the scopes asked for)."""
    handler = (
        "def handler(event, context):\n"
        "    if event['triggerSource'] == 'TokenGeneration_ClientCredentials':\n"
        "        event['response']['claimsAndScopeOverrideDetails'] = {\n"
        "            'accessTokenGeneration': {\n"
        "                'claimsToAddOrOverride': {'source': event['triggerSource'],\n"
        "                                          'asked': ' '.join(event['request']['scopes'])},\n"
        "                'scopesToSuppress': ['orders/write']}}\n"
        "    return event\n")
    def v3(name, inputs):
        config = dict(inputs.get("lambdaConfig") or {})
        config["preTokenGenerationConfig"] = {**config["preTokenGenerationConfig"],
                                              "lambdaVersion": "V3_0"}
        return {**inputs, "lambdaConfig": config}
    edit = combined(function_code(TRIGGER, {"handler.py": handler}),
                    change("aws:cognito/userPool:UserPool", v3))
    with started(stack_file_config("machines"), tmp_path, edit=edit) as sandbox:
        claims = claims_of(client_token(sandbox, "partner").json()["access_token"])
        assert claims["source"] == "TokenGeneration_ClientCredentials"
        assert claims["asked"] == "orders/read orders/write"
        assert claims["scope"] == "orders/read"  # the trigger suppressed orders/write


def test_client_credentials_never_log_a_secret_or_a_token(machines):
    token = client_token(machines, "partner").json()["access_token"]
    secret = credentials(machines, "partner")[1]
    for path in machines.logs_dir.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert secret not in text and token not in text, path
