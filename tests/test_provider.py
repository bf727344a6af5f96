"""The components as a Pulumi package for every language (plugin/): the committed schema is what
Pulumi's analyzer infers, and each component builds through the provider's ``construct`` path,
with inputs shaped as another language's program sends them."""

from __future__ import annotations

import json
import re
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.errors import InputPropertyError
from pulumi.provider.server import ComponentInitError, ProviderServicer
from pulumi.runtime import proto, rpc
from pulumi.runtime.sync_await import _sync_await

from jwt_scoped.package import PACKAGE, PREVIOUS_PACKAGE, type_token
from jwt_scoped.provider import COMPONENTS, provider, schema
from jwt_scoped.recording import RecordingMocks, Run, run_pulumi
from plugin import schema as schema_script

from fixtures.stacks import ROOT

POOL = type_token("ScopedIdentityPool")
API = type_token("ScopedHttpApi")
FUNCTION_ARN = "arn:aws:lambda:eu-west-2:123456789012:function:orders"


def test_the_committed_schema_is_exactly_what_the_analyzer_infers():
    assert schema_script.SCHEMA_FILE.read_text() == schema_script.text(), (
        "the components' interface changed: run `python plugin/schema.py` and review the diff")


def test_the_schema_names_the_package_and_depends_on_no_provider_version():
    document = schema()
    assert document["name"] == PACKAGE
    assert set(document["resources"]) == {POOL, API}
    # No resource-typed input or output: the schema does not pin a pulumi-aws version.
    assert document.get("dependencies", []) == []
    pool = document["resources"][POOL]
    assert pool["requiredInputs"] == ["groups"]
    assert pool["properties"]["scopes"]["additionalProperties"]["type"] == "string"
    api = document["resources"][API]
    assert sorted(api["requiredInputs"]) == ["audiences", "functions", "issuer", "routes"]
    assert [e["value"] for e in document["types"][type_token("TokenUse")]["enum"]] == [
        "id", "access"]


def test_the_plugin_hosts_these_components_under_this_name():
    plugin = ROOT / "plugin"
    assert yaml.safe_load((plugin / "PulumiPlugin.yaml").read_text()) == {"runtime": "python"}
    assert "host()" in (plugin / "__main__.py").read_text()
    assert (plugin / "requirements.txt").read_text().splitlines()[-1] == ".."
    assert [c.__name__ for c in COMPONENTS] == ["ScopedIdentityPool", "ScopedHttpApi"]


# ---- construct, as another language calls it ----------------------------------------------

def wire(props: dict[str, Any], deps: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """``props`` as the provider receives them: serialized as every language's SDK sends a
    ConstructRequest (camelCase keys, numbers as floats), then deserialized by the Python
    provider server; a property with dependencies arrives as one Output."""
    struct = _sync_await(rpc.serialize_properties(props, {}))
    dependencies = {k: proto.ConstructRequest.PropertyDependencies(urns=urns)
                    for k, urns in (deps or {}).items()}
    return _sync_await(ProviderServicer._construct_inputs(struct, dependencies))


def construct(token: str, name: str, props: dict, deps: dict | None = None) -> dict:
    """Construct the component and return the state its caller receives."""
    result = provider().construct(name, token, wire(props, deps), pulumi.ResourceOptions())
    response = _sync_await(ProviderServicer(None, [], "")._construct_response(result))
    return rpc.deserialize_properties(response.state)


def run_construct(*calls) -> tuple[Run, list[dict]]:
    states: list[dict] = []
    run = run_pulumi(lambda: states.extend(construct(*call) for call in calls))
    return run, states


POOL_INPUTS = {"groups": [{"name": "admin", "precedence": 1}, {"name": "regular"}],
               "users": [{"username": "alice", "groups": ["admin"]}],
               "tokenUse": "access", "idTokenValidityMinutes": 30, "protect": False}


def test_the_pool_builds_from_another_languages_inputs():
    run, (state,) = run_construct((POOL, "idp", POOL_INPUTS))
    pool = run.one("aws:cognito/userPool:UserPool")
    assert pool.inputs["userPoolTier"] == "ESSENTIALS"  # tokenUse arrived as the enum's value
    assert pool.inputs["lambdaConfig"]["preTokenGenerationConfig"]["lambdaVersion"] == "V2_0"
    client = run.one("aws:cognito/userPoolClient:UserPoolClient")
    assert client.inputs["idTokenValidity"] == 30  # sent as 30.0; an int again
    assert run.one("aws:cognito/user:User").inputs["username"] == "alice"
    assert {g.inputs["name"]: g.inputs.get("precedence")
            for g in run.of_type("aws:cognito/userGroup:UserGroup")} == {"admin": 1, "regular": None}
    # What the caller gets: the outputs declared on the class, the scopes map included.
    assert state["scopes"] == {"admin": f"admin-{client.id}", "regular": f"regular-{client.id}"}
    assert state["clientId"] == client.id
    assert state["issuerUrl"] == f"https://{pool.outputs['endpoint']}"
    assert set(state) >= {"userPoolId", "userPoolArn", "hostedUiUrl", "userPasswords"}


def test_bad_inputs_from_another_language_are_refused_naming_the_field():
    with pytest.raises(ComponentInitError, match=r"ScopedIdentityPool 'idp': groups\[0\]\.name: group "
                                         r"name 'a b' is invalid.*callback_urls\[0\]: callback"):
        run_construct((POOL, "idp", {**POOL_INPUTS, "groups": [{"name": "a b"}],
                                     "callbackUrls": ["ftp://x"]}))
    # An enum value outside the schema is refused by the provider itself, naming the input.
    with pytest.raises(InputPropertyError, match="tokenUse"):
        run_construct((POOL, "idp", {**POOL_INPUTS, "tokenUse": "both"}))


def test_the_api_builds_from_another_languages_inputs_with_computed_maps():
    """The realistic call: scopes, functions and audiences come from other resources, so each
    arrives as one Output; routes are plain."""
    upstream = ["urn:pulumi:dev::p::aws:cognito/userPoolClient:UserPoolClient::c"]
    props = {"issuer": "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_abc",
             "audiences": ["client123"], "functions": {"orders": FUNCTION_ARN},
             "scopes": {"admin": "admin-client123", "regular": "regular-client123"},
             "routes": [{"routeKey": "GET /orders", "function": "orders",
                         "scopes": ["admin", "regular"]},
                        {"routeKey": "GET /health", "function": "orders", "access": "public"},
                        {"routeKey": "ANY /admin/{proxy+}", "function": "orders",
                         "scopes": ["admin"]}],
             "stageName": "Test", "throttlingBurstLimit": 20,
             "corsOrigins": ["https://app.example.com"]}
    deps = {"audiences": upstream, "functions": upstream, "scopes": upstream}
    run, (state,) = run_construct((API, "shop", props, deps))
    routes = {r.inputs["routeKey"]: r.inputs for r in run.of_type("aws:apigatewayv2/route:Route")}
    assert routes["GET /orders"]["authorizationScopes"] == ["admin-client123", "regular-client123"]
    assert routes["GET /health"]["authorizationType"] == "NONE"
    assert routes["OPTIONS /admin/{proxy+}"]["authorizationType"] == "NONE"  # CORS preflight
    integration = next(i for i in run.of_type("aws:apigatewayv2/integration:Integration")
                       if i.name == "shop-orders-integration")
    assert integration.inputs["integrationUri"] == FUNCTION_ARN
    stage = run.one("aws:apigatewayv2/stage:Stage")
    assert stage.inputs["name"] == "Test"
    assert stage.inputs["defaultRouteSettings"]["throttlingBurstLimit"] == 20
    assert run.one("aws:apigatewayv2/authorizer:Authorizer").inputs["jwtConfiguration"][
        "audiences"] == ["client123"]
    assert state["routeUrls"]["GET /orders"] == state["invokeUrl"] + "/orders"


def test_the_components_keep_the_urns_of_stacks_deployed_before_the_rename():
    """The components were jwt-scoped-api:index:*; an alias from that type makes the engine match
    the old URNs of each component and, through it, of every child: nothing is replaced (a
    replaced user pool loses its users)."""
    mocks = RecordingMocks()
    run_pulumi(lambda: construct(POOL, "idp", POOL_INPUTS), mocks=mocks)
    components = [r for r in mocks.registered if r.type.startswith(f"{PACKAGE}:index:")]
    assert {r.type for r in components} == {POOL, type_token("PythonFunction")}
    for component in components:
        old = component.type.replace(f"{PACKAGE}:", f"{PREVIOUS_PACKAGE}:", 1)
        assert [a["spec"]["type"] for a in component.aliases] == [old]


def test_the_schema_document_is_json_the_cli_can_read():
    text = schema_script.text()
    assert json.loads(text) == schema() and text.endswith("\n")


def test_the_yaml_example_uses_only_what_the_schema_offers():
    """examples/yaml/Pulumi.yaml, read as Pulumi YAML reads it: every property an input of its
    type, every required input given, nested objects as their types say, enums in range, and
    every `${resource.output}` an output of that resource's type."""
    document = schema()
    program = yaml.safe_load((ROOT / "examples" / "yaml" / "Pulumi.yaml").read_text())
    assert program["packages"] == {PACKAGE: "../../plugin"}
    resources = program["resources"]
    types = document["types"]

    def check(value, spec, where):
        ref = spec.get("$ref", "") or spec.get("items", {}).get("$ref", "")
        if spec.get("type") == "array":
            assert isinstance(value, list), where
            for i, item in enumerate(value):
                check(item, spec["items"], f"{where}[{i}]")
        elif ref.startswith("#/types/"):
            named = types[ref.removeprefix("#/types/")]
            if "enum" in named:
                assert value in [e["value"] for e in named["enum"]], where
            else:
                assert set(value) <= set(named["properties"]), where
                assert set(named.get("required", [])) <= set(value), where
                for key, item in value.items():
                    check(item, named["properties"][key], f"{where}.{key}")

    for name, resource in resources.items():
        spec = document["resources"][resource["type"]]
        properties = resource["properties"]
        assert set(properties) <= set(spec["inputProperties"]), name
        assert set(spec["requiredInputs"]) <= set(properties), name
        for key, value in properties.items():
            if not (isinstance(value, str) and value.startswith("${")):
                check(value, spec["inputProperties"][key], f"{name}.{key}")
    text = (ROOT / "examples" / "yaml" / "Pulumi.yaml").read_text()
    for resource, output in re.findall(r"\$\{(\w+)\.(\w+)\}", text):
        assert output in document["resources"][resources[resource]["type"]]["properties"], (
            f"{resource}.{output}")
