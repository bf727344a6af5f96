"""What the program asks AWS to create, as structure (no timing): deploy time is bounded by API
Gateway's control-plane rate, so every resource must be one the design needs.

For a config of R routes served by F distinct functions, G groups, U users and M group
memberships, the program registers

    R + 7F + G + 2U + M + 16

resources (components included, as Pulumi counts them in ``pulumi up``):
- per route: its ``Route``;
- per distinct route function: a ``PythonFunction`` component with its function, role, role
  policy and log group, plus one integration and one API Gateway invoke permission;
- per group a ``UserGroup``; per user a ``RandomPassword`` and a ``User``; per membership a
  ``UserInGroup``;
- fixed (16): the ``ScopedIdentityPool`` component, its trigger (component, function, role,
  policy, log group) and Cognito's invoke permission, the pool, app client, domain and the
  domain's random suffix; the ``ScopedHttpApi`` component, the API, its one JWT authorizer,
  one stage and one access-log group.

The configs run in a copy of the program with three route functions (this repository's own
program has one), so the per-function count is measured, not assumed.
"""

from __future__ import annotations

from collections import Counter

import pytest

from jwt_scoped.package import type_token
from jwt_scoped.recording import Run, run_program

from fixtures.stacks import blog_config, config_shape, generated_config, program_copy

ROUTE = "aws:apigatewayv2/route:Route"
INTEGRATION = "aws:apigatewayv2/integration:Integration"
AUTHORIZER = "aws:apigatewayv2/authorizer:Authorizer"
STAGE = "aws:apigatewayv2/stage:Stage"
API = "aws:apigatewayv2/api:Api"
FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
PYTHON_FUNCTION = type_token("PythonFunction")
TRIGGER = "identity-pre-token"

FUNCTIONS = ("hello", "second", "third")
CONFIGS = {
    "blog": blog_config,
    "12 routes, 2 groups, 2 functions": lambda: generated_config(12, 2, functions=FUNCTIONS[:2]),
    "30 routes, 5 groups, 7 users, 3 functions": lambda: generated_config(
        30, 5, users=7, functions=FUNCTIONS),
    "9 routes, 20 groups, one function": lambda: generated_config(9, 20, users=2),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return program_copy(tmp_path_factory.mktemp("program"), FUNCTIONS)


@pytest.fixture(scope="module", params=list(CONFIGS))
def case(request, project) -> tuple[dict[str, int], Run]:
    config = CONFIGS[request.param]()
    return config_shape(config), run_program(project, config)


def formula(shape: dict[str, int]) -> int:
    return (shape["routes"] + 7 * shape["functions"] + shape["groups"] + 2 * shape["users"]
            + shape["memberships"] + 16)


def test_one_route_resource_per_route(case):
    shape, run = case
    assert len(run.of_type(ROUTE)) == shape["routes"]
    assert len({r.inputs["routeKey"] for r in run.of_type(ROUTE)}) == shape["routes"]


def test_one_function_role_policy_and_log_group_per_route_function_plus_the_trigger(case):
    shape, run = case
    counts = Counter(r.type for r in run.registered)
    for typ in (PYTHON_FUNCTION, FUNCTION, ROLE, ROLE_POLICY):
        assert counts[typ] == shape["functions"] + 1, typ
    function_logs = [g for g in run.of_type(LOG_GROUP) if g.name != "api-access-logs"]
    assert len(function_logs) == shape["functions"] + 1
    assert len({f.name for f in run.of_type(FUNCTION)} - {TRIGGER}) == shape["functions"]


def test_one_integration_and_api_gateway_permission_per_route_function(case):
    shape, run = case
    assert len(run.of_type(INTEGRATION)) == shape["functions"]
    by_principal = Counter(p.inputs["principal"] for p in run.of_type(PERMISSION))
    assert by_principal == {"apigateway.amazonaws.com": shape["functions"],
                            "cognito-idp.amazonaws.com": 1}


def test_one_api_authorizer_stage_and_access_log_group(case):
    _, run = case
    for typ in (API, AUTHORIZER, STAGE):
        run.one(typ)
    assert [g.name for g in run.of_type(LOG_GROUP)].count("api-access-logs") == 1


def test_total_follows_the_formula(case):
    shape, run = case
    assert len(run.registered) == formula(shape), Counter(r.type for r in run.registered)
