"""Each rule of the policy pack as a pure decision over plain values, without Pulumi."""

from __future__ import annotations

import json

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from jwt_scoped import aws_types as t
from jwt_scoped.modes import RouteAccess, route_access
from jwt_scoped.python_function import RUNTIME
from jwt_scoped.rules import MAX_AUDIENCES, MAX_SCOPES_PER_ROUTE
from policy import settings
from policy.api_checks import (
    StageFacts,
    jwt_authorizer_problems,
    log_group_location_problem,
    log_group_name,
    stage_problems,
)
from policy.cognito_checks import deletion_protection_problem, trigger_arn
from policy.iam_checks import documents, is_write_action, policy_document_problems
from policy.lambda_checks import (
    SUPPORTED_PYTHON_RUNTIMES,
    PermissionFacts,
    log_group_problem,
    permission_problem,
    runtime_problem,
)
from policy.machine_checks import (
    DEFAULT_AUTH_FLOWS,
    REFRESH_TOKEN_AUTH,
    copy_problem,
    machine_client_problems,
    machine_scope_problems,
    output_problems,
    secrets_held,
)
from policy.route_checks import (
    RouteExceptions,
    RouteFacts,
    exception_problems,
    granted_scopes,
    is_machine_scope,
    preflight_problems,
    route_authorization_problem,
    unadmitted_scopes,
)
from policy.values import UNKNOWN, dig, plain

# --- plain values ------------------------------------------------------------------------------


def test_plain_turns_every_unknown_the_engine_marks_into_UNKNOWN():
    props = unknown_checking_proxy({
        "sourceArn": UNKNOWN_STRING_VALUE, "principal": "apigateway.amazonaws.com",
        "scopes": [UNKNOWN_STRING_VALUE, "a"], "nested": {"arn": UNKNOWN_STRING_VALUE}})
    assert plain(props) == {"sourceArn": UNKNOWN, "principal": "apigateway.amazonaws.com",
                            "scopes": [UNKNOWN, "a"], "nested": {"arn": UNKNOWN}}


def test_an_unknown_value_refuses_to_be_used_as_a_truth_value():
    with pytest.raises(TypeError, match="unknown"):
        bool(UNKNOWN)


def test_dig_reports_missing_and_unknown_steps_apart():
    props = {"a": {"b": 1}, "u": UNKNOWN}
    assert dig(props, "a", "b") == 1
    assert dig(props, "a", "x") is None
    assert dig(props, "u", "x") is UNKNOWN


# --- routes --------------------------------------------------------------------------------------

# The pack reads a route's access with jwt_scoped.modes.route_access, handing it plain values:
# a state's unset list ([]), a missing property (None) and the pack's own UNKNOWN.
@pytest.mark.parametrize(("auth", "authorizer", "scopes", "access"), [
    ("NONE", False, None, RouteAccess.PUBLIC),
    (None, False, [], RouteAccess.PUBLIC),          # AWS's default authorization type is NONE
    ("JWT", True, None, RouteAccess.SIGNED_IN),
    ("JWT", True, [], RouteAccess.SIGNED_IN),
    ("JWT", True, ["a"], RouteAccess.GROUPS),
    ("JWT", True, [UNKNOWN], RouteAccess.GROUPS),   # a scope derived from an unknown client ID
    ("JWT", True, UNKNOWN, RouteAccess.GROUPS),     # unknown scopes count as some
    ("NONE", False, UNKNOWN, None),                 # ... so no public route has them
    ("NONE", True, None, None),
    ("NONE", False, ["a"], None),
    ("JWT", False, ["a"], None),
    ("AWS_IAM", False, None, None),
])
def test_route_access_reads_the_three_modes_from_the_packs_plain_values(auth, authorizer, scopes,
                                                                         access):
    assert route_access(auth, authorizer, scopes) is access


NO_EXCEPTIONS = RouteExceptions()


def route(key="GET /x", auth="JWT", authorizer="api", scopes=("s",), cors=False) -> RouteFacts:
    return RouteFacts(key, auth, authorizer, list(scopes) if scopes is not None else None, cors)


def test_a_route_with_the_apis_authorizer_and_one_to_ten_scopes_passes():
    assert route_authorization_problem(route(scopes=["s"]), NO_EXCEPTIONS) is None
    scopes = [f"s{i}" for i in range(MAX_SCOPES_PER_ROUTE)]
    assert route_authorization_problem(route(scopes=scopes), NO_EXCEPTIONS) is None


def test_a_route_without_authorization_is_refused_unless_listed_as_public():
    problem = route_authorization_problem(route(auth="NONE", authorizer="none", scopes=None),
                                          NO_EXCEPTIONS)
    assert "GET /x" in problem and "anyone can call it" in problem and "publicRoutes" in problem
    listed = RouteExceptions(public=frozenset({"GET /x"}))
    assert route_authorization_problem(route(auth="NONE", authorizer="none", scopes=None),
                                       listed) is None


def test_eleven_scopes_break_the_hard_quota():
    problem = route_authorization_problem(route(scopes=[f"s{i}" for i in range(11)]),
                                          NO_EXCEPTIONS)
    assert "11 scopes" in problem and f"at most {MAX_SCOPES_PER_ROUTE}" in problem


def test_a_route_without_scopes_is_refused_unless_listed_as_signed_in():
    assert "signedInRoutes" in route_authorization_problem(route(scopes=[]), NO_EXCEPTIONS)
    listed = RouteExceptions(signed_in=frozenset({"GET /x"}))
    assert route_authorization_problem(route(scopes=[]), listed) is None
    # Listing a key as public does not let it go without scopes while it demands a token.
    assert route_authorization_problem(route(scopes=[]),
                                       RouteExceptions(public=frozenset({"GET /x"}))) is not None


def test_a_public_options_route_passes_as_cors_preflight_only_when_the_api_has_cors():
    preflight = route("OPTIONS /admin/{proxy+}", auth="NONE", authorizer="none", scopes=None)
    for cors in (True, UNKNOWN):  # UNKNOWN: an API outside the stack, or a preview not knowing
        assert route_authorization_problem(RouteFacts(**{**preflight.__dict__, "api_cors": cors}),
                                           NO_EXCEPTIONS) is None
    problem = route_authorization_problem(preflight, NO_EXCEPTIONS)
    assert "not a CORS preflight route" in problem
    shared = RouteFacts(**{**preflight.__dict__, "api_cors": True, "shares_handler": True})
    assert "integration of their own" in route_authorization_problem(shared, NO_EXCEPTIONS)


@pytest.mark.parametrize(("facts", "words"), [
    (route(authorizer="none"), "no authorizerId"),
    (route(authorizer="other"), "not a JWT authorizer of its own API"),
    (route(auth="AWS_IAM", authorizer="none", scopes=None), "'AWS_IAM'"),
    (route(auth="NONE", authorizer="api", scopes=["s"]), "no authorizer runs"),
])
def test_other_ways_of_missing_the_apis_jwt_authorizer_are_refused(facts, words):
    assert words in route_authorization_problem(facts, NO_EXCEPTIONS)


def test_what_a_preview_cannot_know_yet_is_not_held_against_a_route():
    assert route_authorization_problem(route(auth=UNKNOWN), NO_EXCEPTIONS) is None
    assert route_authorization_problem(RouteFacts("GET /x", "JWT", "api", UNKNOWN),
                                       NO_EXCEPTIONS) is None
    assert route_authorization_problem(route(scopes=[UNKNOWN]), NO_EXCEPTIONS) is None


def test_exceptions_must_match_the_routes_the_stack_has():
    exceptions = RouteExceptions(public=frozenset({"GET /health", "GET /gone", "GET /AdminUser"}),
                                 signed_in=frozenset({"GET /me", "bad key"}))
    modes = {"GET /health": [RouteAccess.PUBLIC], "GET /AdminUser": [RouteAccess.GROUPS],
             "GET /me": [RouteAccess.SIGNED_IN]}
    problems = exception_problems(exceptions, modes)
    assert problems == [
        "publicRoutes lists 'GET /AdminUser', but that route is scoped to groups, not public: "
        "the exception does not match the stack",
        "publicRoutes lists 'GET /gone', but no route of this stack has that key: remove it "
        "from the list",
        "signedInRoutes: route key 'bad key' has method 'bad'; expected one of ANY, DELETE, GET, "
        "HEAD, OPTIONS, PATCH, POST, PUT",
    ]
    assert exception_problems(RouteExceptions(frozenset({"GET /a"}), frozenset({"GET /a"})),
                              {"GET /a": [UNKNOWN]}) == [
        "'GET /a' is listed in both publicRoutes and signedInRoutes"]


def test_a_token_route_that_catches_preflights_is_found_and_public_options_routes_fix_it():
    assert list(preflight_problems({"ANY /admin/{proxy+}": True, "GET /x": True})) == [
        "ANY /admin/{proxy+}"]
    fixed = {"ANY /admin/{proxy+}": True, "OPTIONS /admin/{proxy+}": False}
    assert preflight_problems(fixed) == {}
    assert list(preflight_problems({"$default": True})) == ["$default"]
    assert preflight_problems({"$default": True, "OPTIONS /{proxy+}": False, "OPTIONS /": False}) == {}
    assert list(preflight_problems({"OPTIONS /x": True})) == ["OPTIONS /x"]
    assert preflight_problems({"GET /x": True, "POST /y/{id}": True}) == {}
    assert preflight_problems({"ANY /x": UNKNOWN}) == {}


def test_the_preflight_problem_says_why_browsers_fail():
    (problem,) = preflight_problems({"ANY /admin/{proxy+}": True}).values()
    assert "OPTIONS /admin/sample" in problem and "401" in problem


def test_a_scope_admits_someone_only_when_a_group_grants_it():
    granted = granted_scopes(["admin", "regular"], ["client1"])
    assert granted == {"admin-client1", "regular-client1"}
    assert unadmitted_scopes(["admin-client1", UNKNOWN, "auditor-client1"], granted) == [
        "auditor-client1"]


# --- JWT authorizers and stages ----------------------------------------------------------------

def test_a_sound_jwt_authorizer_passes():
    assert jwt_authorizer_problems("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x",
                                   ["client"], ["$request.header.Authorization"]) == []


@pytest.mark.parametrize(("issuer", "audiences", "sources", "words"), [
    ("http://issuer.example", ["a"], ["$request.header.Authorization"], "not an https:// URL"),
    ("", ["a"], ["$request.header.Authorization"], "no issuer"),
    ("https://i", [], ["$request.header.Authorization"], "0 audiences"),
    ("https://i", [f"a{i}" for i in range(MAX_AUDIENCES + 1)], ["$request.header.X"],
     f"{MAX_AUDIENCES + 1} audiences"),
    ("https://i", ["a"], ["$request.querystring.token"], "not a request header"),
    ("https://i", ["a"], [], "no identity source"),
])
def test_a_jwt_authorizer_needs_https_issuer_audiences_and_a_header(issuer, audiences, sources, words):
    assert any(words in p for p in jwt_authorizer_problems(issuer, audiences, sources))


def test_unknown_authorizer_values_wait_until_they_are_known():
    assert jwt_authorizer_problems(UNKNOWN, UNKNOWN, UNKNOWN) == []
    assert jwt_authorizer_problems(UNKNOWN, [UNKNOWN], ["$request.header.Authorization"]) == []


def good_stage(**changes) -> StageFacts:
    facts = {"destination": "arn:aws:logs:r:1:log-group:/aws/vendedlogs/x", "log_group": "x",
             "retention": 30, "throttling_burst": 100, "throttling_rate": 50, "auto_deploy": True}
    return StageFacts(**{**facts, **changes})


def test_a_logged_throttled_auto_deployed_stage_passes():
    assert stage_problems(good_stage()) == []


@pytest.mark.parametrize(("changes", "words"), [
    ({"destination": None, "log_group": None}, "access logging is off"),
    ({"log_group": None}, "is no log group of this stack"),
    ({"destination": UNKNOWN, "log_group": None}, "comes from no log group of this stack"),
    ({"retention": None}, "keeps logs forever"),
    ({"retention": 0}, "keeps logs forever"),
    ({"throttling_rate": None}, "throttling is not set"),
    ({"auto_deploy": False}, "never serves"),
    ({"auto_deploy": None}, "never serves"),
])
def test_a_stage_needs_logs_with_retention_throttling_and_a_deployment(changes, words):
    problems = stage_problems(good_stage(**changes))
    assert len(problems) == 1 and words in problems[0]


def test_a_deployment_stands_in_for_auto_deploy():
    assert stage_problems(good_stage(auto_deploy=False, deployment_id="abc")) == []
    assert stage_problems(good_stage(auto_deploy=None, api_has_deployment=True)) == []
    assert stage_problems(good_stage(auto_deploy=UNKNOWN, retention=UNKNOWN)) == []


def test_access_logs_belong_under_vendedlogs():
    assert log_group_location_problem("/aws/vendedlogs/apigateway/api-") is None
    problem = log_group_location_problem("/aws/apigateway/api-")
    assert "'/aws/apigateway/api-'" in problem and "5,120" in problem
    assert log_group_location_problem(UNKNOWN) is None
    assert log_group_name("arn:aws:logs:eu-west-2:123456789012:log-group:/aws/x:*") == "/aws/x"
    assert log_group_name("arn:aws:firehose:eu-west-2:123456789012:deliverystream/x") is None


# --- Lambda permissions and functions -----------------------------------------------------------

API_EXEC = "arn:aws:execute-api:us-east-1:123456789012:abc123"
POOL_ARN = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbC"


@pytest.mark.parametrize(("facts", "ok"), [
    (PermissionFacts("apigateway.amazonaws.com", f"{API_EXEC}/*/*", execution_arns=(API_EXEC,)), True),
    (PermissionFacts("apigateway.amazonaws.com", "arn:aws:execute-api:eu-west-1:210987654321:zzz9/*"),
     True),   # an API of another stack, named exactly
    (PermissionFacts("apigateway.amazonaws.com", "arn:aws:execute-api:*:*:*"), False),
    (PermissionFacts("apigateway.amazonaws.com", API_EXEC), False),   # the API itself, not under it
    (PermissionFacts("apigateway.amazonaws.com", None), False),
    (PermissionFacts("apigateway.amazonaws.com", ""), False),
    (PermissionFacts("apigateway.amazonaws.com", UNKNOWN, frozenset({t.API})),
     True),
    (PermissionFacts("apigateway.amazonaws.com", UNKNOWN, frozenset({"aws:s3/bucket:Bucket"})), False),
    (PermissionFacts("cognito-idp.amazonaws.com", POOL_ARN), True),
    (PermissionFacts("cognito-idp.amazonaws.com", f"{API_EXEC}/*"), False),
    (PermissionFacts("cognito-idp.amazonaws.com", UNKNOWN, frozenset({t.USER_POOL})), True),
    (PermissionFacts("cognito-idp.amazonaws.com", None), False),
    (PermissionFacts("events.amazonaws.com", None), False),
    (PermissionFacts("events.amazonaws.com", "arn:aws:events:us-east-1:123456789012:rule/r"), True),
    (PermissionFacts("123456789012", None), True),    # an account, not a service principal
    (PermissionFacts(UNKNOWN, None), True),
])
def test_a_service_may_invoke_a_function_only_for_a_named_source(facts, ok):
    assert (permission_problem(facts) is None) is ok


def test_a_permission_without_source_arn_is_explained():
    problem = permission_problem(PermissionFacts("apigateway.amazonaws.com", None))
    assert "no source ARN" in problem and "any account" in problem


def test_the_components_runtime_is_a_supported_one():
    assert RUNTIME in SUPPORTED_PYTHON_RUNTIMES
    assert runtime_problem(RUNTIME, None, SUPPORTED_PYTHON_RUNTIMES) is None


@pytest.mark.parametrize(("runtime", "package_type", "ok"), [
    ("python3.9", None, False), ("nodejs22.x", None, False), (None, None, False),
    (None, "Image", True), (UNKNOWN, None, True),
])
def test_functions_use_a_supported_python_runtime(runtime, package_type, ok):
    assert (runtime_problem(runtime, package_type, SUPPORTED_PYTHON_RUNTIMES) is None) is ok


def test_a_function_logs_to_a_group_of_the_stack_with_a_retention():
    assert log_group_problem("/aws/lambda/f", True, 30) is None
    assert "keeps logs forever" in log_group_problem("/aws/lambda/f", True, None)
    assert "does not create" in log_group_problem("/aws/lambda/f", False, None)
    assert log_group_problem(UNKNOWN, False, None) is None
    assert log_group_problem(UNKNOWN, True, UNKNOWN) is None


# --- IAM -----------------------------------------------------------------------------------------

def doc(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


LOGS_STATEMENT = {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                  "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f:*"}


def test_a_least_privilege_policy_passes():
    assert policy_document_problems(doc(LOGS_STATEMENT)) == []
    assert policy_document_problems(doc({"Effect": "Allow", "Action": "s3:GetObject",
                                         "Resource": "*"})) == []
    assert policy_document_problems(doc({"Effect": "Deny", "Action": "*", "Resource": "*"})) == []


@pytest.mark.parametrize(("statement", "words"), [
    ({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/*"}, "every action ('*')"),
    ({"Effect": "Allow", "Action": ["s3:*"], "Resource": "arn:aws:s3:::b/*"}, "a whole service ('s3:*')"),
    ({"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"},
     "write action(s) logs:PutLogEvents on every resource"),
    ({"Effect": "Allow", "Action": "iam:PassRole", "Resource": ["*"]}, "iam:PassRole"),
    ({"Effect": "Allow", "Action": "s3:PutObject", "NotResource": "arn:aws:s3:::b/*"},
     "on every resource"),
    ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "every action but those in NotAction"),
])
def test_wildcard_actions_and_writes_on_every_resource_are_refused(statement, words):
    problems = policy_document_problems(doc(statement))
    assert any(words in p for p in problems), problems


def test_a_statement_is_named_by_its_sid():
    problems = policy_document_problems(doc({"Sid": "Logs", "Effect": "Allow", "Action": "*",
                                             "Resource": "*"}))
    assert problems and all(p.startswith("statement Logs ") for p in problems)


def test_actions_that_need_every_resource_can_be_allowed_by_config():
    statement = {"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"}
    assert policy_document_problems(doc(statement), ["xray:PutTraceSegments"]) == []
    assert policy_document_problems(doc(statement)) != []


def test_read_only_verbs_are_told_from_writes():
    assert not is_write_action("s3:GetObject") and not is_write_action("dynamodb:query")
    assert is_write_action("logs:CreateLogStream") and is_write_action("lambda:InvokeFunction")


def test_unknown_or_broken_documents():
    assert policy_document_problems(UNKNOWN) == []
    assert policy_document_problems("{not json") == ["the policy document is not valid JSON"]


def test_documents_are_found_in_each_kind_of_iam_resource():
    assert documents(t.ROLE_POLICY, {"policy": "d"}) == [("policy", "d")]
    assert documents(t.MANAGED_POLICY, {"policy": UNKNOWN}) == [("policy", UNKNOWN)]
    assert documents(t.ROLE, {"inlinePolicies": [{"name": "p", "policy": "d"}]}) == [
        ("inline policy 'p'", "d")]
    assert documents(t.ROLE, {}) == []


# --- Cognito -------------------------------------------------------------------------------------

def test_a_pool_is_protected_unless_its_stack_is_a_throwaway():
    assert deletion_protection_problem("ACTIVE", "prod", []) is None
    problem = deletion_protection_problem("INACTIVE", "prod", ["dev"])
    assert "every user" in problem and "'prod'" in problem and "throwawayStacks" in problem
    assert "INACTIVE (the default)" in deletion_protection_problem(None, "prod", [])
    assert deletion_protection_problem("INACTIVE", "dev", ["dev"]) is None
    assert deletion_protection_problem(UNKNOWN, "prod", []) is None


def test_the_trigger_is_read_from_either_form_of_lambda_config():
    assert trigger_arn({"preTokenGenerationConfig": {"lambdaArn": "a", "lambdaVersion": "V2_0"}}) == "a"
    assert trigger_arn({"preTokenGeneration": "b"}) == "b"
    assert trigger_arn({}) is None and trigger_arn(None) is None
    assert trigger_arn(UNKNOWN) is UNKNOWN


# --- the pack's config ---------------------------------------------------------------------------

def test_config_defaults_fill_in_and_given_values_win():
    options = (settings.PUBLIC_ROUTES, settings.SUPPORTED_RUNTIMES)
    assert settings.read("p", options, {}) == {
        "publicRoutes": [], "supportedRuntimes": list(SUPPORTED_PYTHON_RUNTIMES)}
    assert settings.read("p", options, {"publicRoutes": ["GET /h"], "enforcementLevel": "advisory"})[
        "publicRoutes"] == ["GET /h"]


def test_config_mistakes_name_the_policy_and_the_key():
    with pytest.raises(settings.PolicyConfigError, match=r"'p'.*'publicRoute'.*publicRoutes"):
        settings.read("p", (settings.PUBLIC_ROUTES,), {"publicRoute": ["GET /h"]})
    with pytest.raises(settings.PolicyConfigError, match="publicRoutes must be a list of strings"):
        settings.read("p", (settings.PUBLIC_ROUTES,), {"publicRoutes": "GET /h"})


# --- machines as callers -------------------------------------------------------------------------

MACHINE_FLOWS = ["client_credentials"]


def test_a_machine_client_of_the_components_lets_no_one_sign_in():
    assert machine_client_problems(MACHINE_FLOWS, [REFRESH_TOKEN_AUTH]) == []


@pytest.mark.parametrize("auth_flows", [None, []])
def test_no_explicit_auth_flows_is_cognitos_default_which_signs_users_in(auth_flows):
    (problem,) = machine_client_problems(MACHINE_FLOWS, auth_flows)
    assert all(flow in problem for flow in DEFAULT_AUTH_FLOWS)
    assert "CreateUserPoolClient" in problem and f"[{REFRESH_TOKEN_AUTH}]" in problem


@pytest.mark.parametrize("flow", ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH",
                                  "ALLOW_CUSTOM_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                                  "ALLOW_USER_AUTH", "USER_PASSWORD_AUTH"])
def test_every_explicit_auth_flow_but_refresh_tokens_signs_a_user_in(flow):
    (problem,) = machine_client_problems(MACHINE_FLOWS, [flow, REFRESH_TOKEN_AUTH])
    assert f"user sign-in flow(s) {flow}:" in problem


@pytest.mark.parametrize("grant", ["code", "implicit"])
def test_a_machine_client_with_a_user_grant_is_refused_as_cognito_would(grant):
    (problem,) = machine_client_problems([*MACHINE_FLOWS, grant], [REFRESH_TOKEN_AUTH])
    assert f"also {grant}" in problem and "Cognito refuses" in problem


def test_clients_for_people_and_unknown_flows_are_not_judged_as_machines():
    assert machine_client_problems(["code"], None) == []
    assert machine_client_problems(None, None) == []
    assert machine_client_problems(UNKNOWN, None) == []
    assert machine_client_problems([UNKNOWN], None) == []
    assert machine_client_problems(MACHINE_FLOWS, UNKNOWN) == []
    assert machine_client_problems(MACHINE_FLOWS, [UNKNOWN]) == []


SECRETS = {"partner": "s3cr3t-partner-0123456789", "nightly": "s3cr3t-nightly-0123456789"}


def test_a_secret_is_found_anywhere_in_a_value():
    assert secrets_held({"a": [{"b": "x s3cr3t-partner-0123456789 y"}]}, SECRETS) == ["partner"]
    document = json.dumps({"env": SECRETS})
    assert secrets_held(document, SECRETS) == ["nightly", "partner"]
    assert secrets_held({"a": UNKNOWN, "b": 3, "c": None}, SECRETS) == []


def test_stack_outputs_holding_a_secret_must_be_listed_as_secret():
    outputs = {"machine_client_secrets": dict(SECRETS), "partner": SECRETS["partner"],
               "api_url": "https://x"}
    problems = output_problems(outputs, SECRETS, ["machine_client_secrets"])
    assert len(problems) == 1
    assert "stack output 'partner' holds the secret of app client 'partner'" in problems[0]
    assert "cannot see which outputs are secret" in problems[0]
    assert output_problems(outputs, SECRETS, ["machine_client_secrets", "partner"]) == []
    assert output_problems(outputs, {}, []) == []


def test_a_listed_secret_output_must_be_an_output_of_the_stack():
    assert output_problems({"machine_client_secrets": {}}, {}, ["machine_client_secrets"]) == []
    assert output_problems({}, {}, ["machine_client_secret"]) == [
        "secretOutputs lists 'machine_client_secret', but the stack has no output of that name: "
        "remove it from the list"]
    assert output_problems(UNKNOWN, SECRETS, ["gone"]) == []


def test_a_copy_of_a_secret_is_refused_outside_a_listed_secret_store():
    props = {"environment": {"variables": {"SECRET": SECRETS["nightly"]}}}
    problem = copy_problem(t.FUNCTION, props, SECRETS, [])
    assert f"this {t.FUNCTION} holds the secret of app client 'nightly'" in problem
    assert "secretStores" in problem
    assert copy_problem(t.FUNCTION, props, SECRETS, [t.FUNCTION]) is None
    assert copy_problem(t.FUNCTION, {"environment": UNKNOWN}, SECRETS, []) is None


SERVERS = {"orders": {"read", "write"}}


def test_machine_scopes_a_server_defines_and_a_client_may_request_pass():
    assert machine_scope_problems("GET /o", ["orders/read", "admin-c1"], SERVERS,
                                  {"orders/read"}) == []


def test_a_machine_scope_no_client_may_request_admits_nobody():
    (problem,) = machine_scope_problems("GET /o", ["orders/read", "orders/write"], SERVERS,
                                        {"orders/read"})
    assert "route 'GET /o' demands machine scope(s) 'orders/write' that no app client" in problem


def test_a_machine_scope_the_pool_does_not_define_is_named_once():
    (problem,) = machine_scope_problems(
        "GET /o", ["orders/delete", "billing/read"], SERVERS, {"orders/delete"})
    assert "'orders/delete' names scope 'delete', which resource server 'orders' does not " \
           "define (it defines: read, write)" in problem
    assert "'billing/read' names resource server 'billing', which the pool does not define " \
           "(its resource servers: orders)" in problem
    defined_but_not_granted = machine_scope_problems(
        "GET /o", ["billing/read", "orders/write"], SERVERS, set())
    assert len(defined_but_not_granted) == 2
    assert "'orders/write' that no app client" in defined_but_not_granted[1]
    assert "billing" not in defined_but_not_granted[1]


def test_an_identifier_may_hold_slashes():
    servers = {"https://api.example.com": {"read"}}
    assert machine_scope_problems("GET /o", ["https://api.example.com/read"], servers,
                                  {"https://api.example.com/read"}) == []


def test_what_is_not_known_yet_waits():
    assert machine_scope_problems("GET /o", ["orders/x"], UNKNOWN, UNKNOWN) == []
    (only_requestable,) = machine_scope_problems("GET /o", ["orders/x"], UNKNOWN, set())
    assert "no app client" in only_requestable
    assert machine_scope_problems("GET /o", UNKNOWN, SERVERS, set()) == []
    assert machine_scope_problems("GET /o", [UNKNOWN, "admin-c1"], SERVERS, set()) == []


def test_group_scopes_and_machine_scopes_are_told_apart():
    assert is_machine_scope("orders/read") and is_machine_scope("https://api.example.com/read")
    assert not is_machine_scope("admin-client1") and not is_machine_scope(UNKNOWN)
    # The group rule leaves machine scopes to the machine-scopes rule.
    assert unadmitted_scopes(["orders/read", "auditor-c1"], {"admin-c1"}) == ["auditor-c1"]


def test_the_secret_rules_options_are_lists_of_strings_with_empty_defaults():
    options = (settings.SECRET_OUTPUTS, settings.SECRET_STORES)
    assert settings.read("p", options, {}) == {"secretOutputs": [], "secretStores": []}
    with pytest.raises(settings.PolicyConfigError, match="secretStores must be a list of strings"):
        settings.read("p", options, {"secretStores": "aws:ssm/parameter:Parameter"})
