"""The plan agrees with API Gateway for any mix of public, signed-in and group routes.

For random stacks, the program runs under Pulumi's mocks and its matrix is built from that very
run's resources, as ``jwt-scoped plan`` builds it. Each caller's tokens are built the way Cognito
builds them, with the components' real trigger on the recorded app client id; each recorded
route answers by API Gateway's rules (no authorizer: anyone; else a valid token, then one of the
route's scopes if it has any, with the sandbox's scope check). The matrix must give the same
status in every cell, and ``verify`` must expect the same for the tampered token and for each
user's other token."""

from __future__ import annotations

import copy
import io
from contextlib import redirect_stdout

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jwt_scoped import aws_types as T
from jwt_scoped.access.matrix import ANONYMOUS, build_matrix
from jwt_scoped.access.model import resources_of_run, stack_model
from jwt_scoped.access.verify import OTHER_TOKEN, TAMPERED, probes
from jwt_scoped.recording import run_program
from jwt_scoped.sandbox.jwt_authorizer import scopes_admit

from fixtures.stacks import NS, PROJECT
from fixtures.trigger_events import V1_EVENT, V2_EVENT
from functions_loader import load_handler

GROUPS = ["g0", "g1", "g2"]
PATHS = ["/a", "/a/{id}", "/b", "/{proxy+}"]
TRIGGER = load_handler("trigger").handler
COGNITO_SCOPE = "aws.cognito.signin.user.admin"  # what USER_PASSWORD_AUTH grants access tokens


@st.composite
def stacks(draw) -> dict:
    keys = draw(st.lists(st.tuples(st.sampled_from(["GET", "POST", "ANY"]),
                                   st.sampled_from(PATHS)), min_size=1, max_size=5, unique=True))
    routes = []
    for method, path in keys:
        access = draw(st.sampled_from(["public", "signed-in", "groups"]))
        route = {"route": f"{method} {path}", "function": "hello"}
        if access == "groups":
            route["groups"] = draw(st.lists(st.sampled_from(GROUPS), min_size=1, unique=True))
        else:
            route["access"] = access
        routes.append(route)
    users = [{"username": f"user{i}",
              "groups": draw(st.lists(st.sampled_from(GROUPS), unique=True))} for i in range(3)]
    config = {"aws:region": "us-east-1", f"{NS}:protectUserPool": False,
              f"{NS}:tokenUse": draw(st.sampled_from(["id", "access"])),
              f"{NS}:groups": [{"name": g} for g in GROUPS],
              f"{NS}:users": users, f"{NS}:routes": routes}
    if draw(st.booleans()):  # CORS: the components add OPTIONS routes, which are no callers' routes
        config[f"{NS}:corsOrigins"] = ["https://app.example.com"]
    return config


def tokens(token_use: str, groups: list[str], client_id: str) -> dict[str, dict]:
    """The claims that matter here of a user's ID and access tokens, as Cognito issues them
    with the trigger's answer applied."""
    event = copy.deepcopy(V1_EVENT if token_use == "id" else V2_EVENT)
    event["callerContext"]["clientId"] = client_id
    event["request"]["groupConfiguration"]["groupsToOverride"] = groups
    with redirect_stdout(io.StringIO()):
        response = TRIGGER(event, None)["response"]
    id_token: dict = {"token_use": "id"}
    access_token = {"token_use": "access", "scope": COGNITO_SCOPE}
    if token_use == "id":
        claim = ((response.get("claimsOverrideDetails") or {}).get("claimsToAddOrOverride")
                 or {}).get("scope")
        if claim:
            id_token["scope"] = claim
    else:
        added = ((response.get("claimsAndScopeOverrideDetails") or {})
                 .get("accessTokenGeneration") or {}).get("scopesToAdd") or []
        access_token["scope"] = " ".join([COGNITO_SCOPE, *added])
    return {"id": id_token, "access": access_token}


def gateway(route: dict, claims: dict | None) -> int:
    """What API Gateway answers a recorded route for a token with these claims (None: no valid
    token)."""
    if route.get("authorizationType", "NONE") == "NONE":
        return 200
    if claims is None:
        return 401
    return 200 if scopes_admit(route.get("authorizationScopes") or [], claims) else 403


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks())
def test_property_the_plan_is_what_api_gateway_answers(config):
    run = run_program(PROJECT, config)
    matrix = build_matrix(stack_model(resources_of_run(run.registered)))
    client_id = run.one(T.USER_POOL_CLIENT).id
    token_use = config[f"{NS}:tokenUse"]
    other = "access" if token_use == "id" else "id"
    routes = {r.inputs["routeKey"]: r.inputs for r in run.of_type(T.ROUTE)}
    # Every route the config asks for, and only those: the OPTIONS routes CORS adds are not
    # routes a caller is judged on.
    assert [r.key for r in matrix.routes] == [r["route"] for r in config[f"{NS}:routes"]]
    assert set(routes) - {r.key for r in matrix.routes} <= {
        k for k in routes if k.startswith("OPTIONS ")}
    assert matrix.token_use == token_use
    users = {u["username"]: tokens(token_use, u["groups"], client_id)
             for u in config[f"{NS}:users"]}
    first = next(iter(users.values()))
    for route in matrix.routes:
        recorded = routes[route.key]
        for user, claims in users.items():
            assert matrix.cell(user, route.key).status == gateway(recorded, claims[token_use]), (
                user, route.key)
        assert matrix.cell(ANONYMOUS, route.key).status == gateway(recorded, None)
    expected = {(p.route, p.caller): p.expected for p in probes(matrix, True, True)}
    for route in matrix.routes:
        recorded = routes[route.key]
        assert expected[(route.key, TAMPERED)] == gateway(recorded, None)
        assert expected[(route.key, OTHER_TOKEN)] == gateway(recorded, first[other])
