"""The decisions of ``jwt-scoped verify``, as plain calls: what to call and expect, whether the
deployed stack (its state, read back into a model) is the one planned, what a 401 says, how
sign-in failures read, when to retry, and how the state is read. No AWS: a "deployed" stack is
the state document of a mocked run, as the sandbox writes it."""

from __future__ import annotations

import base64
import copy
import io
import json
import os
import stat
from urllib.parse import urlsplit

import botocore
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from jwt_scoped import aws_types as T
from jwt_scoped.access import probe as probe_module
from jwt_scoped.access import signin
from jwt_scoped.access import verify as verify_module
from jwt_scoped.access.matrix import ANONYMOUS
from jwt_scoped.access.model import SECRET_SIG, SECRET_SIG_KEY
from jwt_scoped.access.probe import Answer, RetryPolicy, Unreachable, call, error_description, should_retry
from jwt_scoped.access.signin import SignInError, cognito_client, sign_in, sign_in_error_message, token_from
from jwt_scoped.access.state import (
    StateError,
    live_model,
    pulumi_command,
    read_state_file,
    run_pulumi,
    sandbox_endpoint,
)
from jwt_scoped.access.verify import (
    OTHER_TOKEN,
    PREFLIGHT,
    TAMPERED,
    Outcome,
    Probe,
    VerifyError,
    deployed,
    mismatch_lines,
    probes,
    tamper,
    token_for,
    url_for,
)
from jwt_scoped.cli import main
from jwt_scoped.modes import TokenUse
from jwt_scoped.recording import run_program
from jwt_scoped.sandbox.app import state_document

from access_configs import matrix_of, run_of, small_config, state_of
from fixtures.stacks import NS, PROJECT, ROOT, blog_config

CLIENT = "71ghuul37mresr7h373b704tua"
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER")


def blog_matrix(**extra):
    return matrix_of(small_config(**extra))


def entries(document: dict, typ: str) -> list[dict]:
    return [e for e in document["deployment"]["resources"] if e["type"] == typ]


def without(document: dict, predicate) -> dict:
    document = copy.deepcopy(document)
    document["deployment"]["resources"] = [e for e in document["deployment"]["resources"]
                                           if not predicate(e)]
    return document


def props(entry: dict) -> list[dict]:
    """Where a property of a resource is: its inputs and its outputs."""
    return [entry[part] for part in ("inputs", "outputs") if entry.get(part)]


# ---- what to call, what to expect ---------------------------------------------------------

def test_every_route_is_called_anonymously_by_each_user_and_with_a_tampered_token():
    got = [(p.route, p.caller, p.expected) for p in probes(blog_matrix(), tampered=True)]
    assert got == [
        ("GET /AdminUser", ANONYMOUS, 401), ("GET /AdminUser", "adminuser", 200),
        ("GET /AdminUser", "regularuser", 403), ("GET /AdminUser", TAMPERED, 401),
        ("GET /RegularUser", ANONYMOUS, 401), ("GET /RegularUser", "adminuser", 200),
        ("GET /RegularUser", "regularuser", 200), ("GET /RegularUser", TAMPERED, 401)]


def test_without_users_there_is_no_token_to_tamper_with():
    config = small_config()
    del config[f"{NS}:users"]
    assert {p.caller for p in probes(matrix_of(config), tampered=False)} == {ANONYMOUS}


def test_routes_with_parameters_are_called_on_a_sample_path():
    config = small_config()
    config[f"{NS}:routes"].append({"route": "DELETE /items/{id}/{rest+}", "function": "hello",
                                   "groups": ["admin"]})
    probe = probes(matrix_of(config), tampered=False)[-1]
    assert (probe.method, probe.path) == ("DELETE", "/items/sample/sample")
    assert url_for("https://x/Test", probe.path) == "https://x/Test/items/sample/sample"
    assert url_for("https://x/", "/AdminUser") == "https://x/AdminUser"  # $default stage


def test_the_other_token_is_refused_on_group_routes_and_taken_on_signed_in_ones():
    config = small_config()
    config[f"{NS}:routes"] += [
        {"route": "GET /me", "function": "hello", "access": "signed-in"},
        {"route": "GET /health", "function": "hello", "access": "public"}]
    got = {(p.route, p.caller): p.expected
           for p in probes(matrix_of(config), tampered=True, other_token=True)}
    assert [got[(r, OTHER_TOKEN)] for r in ("GET /AdminUser", "GET /me", "GET /health")] == [
        403, 200, 200]
    assert [got[(r, TAMPERED)] for r in ("GET /AdminUser", "GET /me", "GET /health")] == [
        401, 401, 200]


def jwt_like(signature: bytes) -> str:
    enc = base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    return f"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.{enc}"


@pytest.mark.parametrize("signature", [bytes(256), bytes(range(256)), b"\xff" * 256])
def test_a_tampered_token_keeps_header_and_claims_but_not_the_signature(signature):
    token = jwt_like(signature)
    bad = tamper(token)
    assert bad.split(".")[:2] == token.split(".")[:2]
    decoded = base64.urlsafe_b64decode(bad.split(".")[2] + "==")
    assert len(decoded) == len(signature) and decoded != signature


def test_tamper_refuses_what_is_not_a_jwt():
    with pytest.raises(ValueError, match="not a signed JWT"):
        tamper("opaque-token")
    with pytest.raises(ValueError, match="not a signed JWT"):
        tamper("a.b.")


def test_each_token_is_presented_by_the_right_caller():
    tokens = {"adminuser": {TokenUse.ID: "a.b.cid", TokenUse.ACCESS: "a.b.cacc"},
              "regularuser": {TokenUse.ID: "r.b.cid", TokenUse.ACCESS: "r.b.cacc"}}
    assert token_for("regularuser", tokens, TokenUse.ID) == "r.b.cid"
    assert token_for("regularuser", tokens, TokenUse.ACCESS) == "r.b.cacc"
    assert token_for(OTHER_TOKEN, tokens, TokenUse.ID) == "a.b.cacc"
    assert token_for(TAMPERED, tokens, TokenUse.ID) == tamper("a.b.cid")
    assert token_for(ANONYMOUS, tokens, TokenUse.ID) is None
    assert token_for(PREFLIGHT, tokens, TokenUse.ID) is None


def test_with_cors_each_route_request_is_preflighted_like_a_browser():
    matrix = blog_matrix(corsOrigins=["https://app.example.com"])
    preflights = [p for p in probes(matrix, tampered=True) if p.caller == PREFLIGHT]
    assert [(p.route, p.method, p.path, p.expected, dict(p.headers)) for p in preflights] == [
        ("GET /AdminUser", "OPTIONS", "/AdminUser", 204,
         {"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"}),
        ("GET /RegularUser", "OPTIONS", "/RegularUser", 204,
         {"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"})]


def test_with_any_origin_allowed_the_preflight_sends_a_made_up_origin():
    matrix = blog_matrix(corsOrigins=["*"])
    origins = {p.origin for p in probes(matrix, tampered=False) if p.caller == PREFLIGHT}
    assert origins == {verify_module.CORS_PROBE_ORIGIN}


@pytest.mark.parametrize(("expected", "actual", "allow_origin", "ok"), [
    (204, 204, "https://app.example.com", True),
    (204, 204, None, False),                      # no CORS header: the browser refuses it
    (204, 401, None, False),
    (None, 200, "https://app.example.com", True),  # a public route's own function: any 2xx
    (None, 404, None, False),
    (204, 204, "*", True),
    (204, 204, "https://other.example.com", False),
])
def test_a_preflight_passes_only_with_its_status_and_the_cors_header(expected, actual,
                                                                     allow_origin, ok):
    probe = Probe(PREFLIGHT, "GET /x", "OPTIONS", "/x", expected,
                  (("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "GET")))
    assert Outcome(probe, actual, allow_origin=allow_origin).ok is ok


# ---- is the deployed stack the one planned? -----------------------------------------------

def test_the_deployed_blog_stack_is_found_by_urn_in_its_state():
    config = blog_config()
    run = run_of(config)
    target = deployed(matrix_of(config), live_model(state_of(config)))
    stage_url = run.one(T.STAGE).outputs["invokeUrl"]
    assert target.api_urls == {"GET /AdminUser": stage_url, "GET /RegularUser": stage_url}
    passwords = run.exports["test_user_passwords"]
    pool_id, client_id = run.one(T.USER_POOL).id, run.one(T.USER_POOL_CLIENT).id
    assert {name: (s.user_pool_id, s.client_id, s.username, s.password)
            for name, s in target.sign_ins.items()} == {
        name: (pool_id, client_id, name, password) for name, password in passwords.items()}
    assert target.token_use == TokenUse.ID
    assert target.cognito_endpoint is None and target.label == stage_url


def test_the_plan_of_one_stack_finds_the_resources_of_another_stack_of_the_program():
    """``plan --config FILE`` names its stack after the file; the deployed stack has its own
    name in every URN. The same program's resources are found whichever it is."""
    config = blog_config()
    prod = run_program(PROJECT, config, stack="prod")
    state = json.loads(json.dumps(state_document(prod, {}), default=str))
    matrix = matrix_of(config)
    assert all(":dev::" in r.urn for r in matrix.routes)
    assert all(":prod::" in e["urn"] for e in state["deployment"]["resources"])
    target = deployed(matrix, live_model(state))
    assert set(target.api_urls) == {r.key for r in matrix.routes}
    assert {name: s.password for name, s in target.sign_ins.items()} == (
        prod.exports["test_user_passwords"])


def test_a_sandboxs_state_names_its_local_cognito():
    config = blog_config()
    state = state_of(config, {"cognito_endpoint": "http://127.0.0.1:5001", "region": "us-east-1"})
    live = live_model(state)
    assert sandbox_endpoint(live) == "http://127.0.0.1:5001"
    assert deployed(matrix_of(config), live).cognito_endpoint == "http://127.0.0.1:5001"
    assert sandbox_endpoint(live_model(state_of(config))) is None


def problems_of(config: dict, state: dict) -> str:
    with pytest.raises(VerifyError) as raised:
        deployed(matrix_of(config), live_model(state))
    message = str(raised.value)
    assert message.startswith("the deployed stack does not match the plan: ")
    assert message.endswith(" (run `pulumi up` with this config first)")
    return message


def test_a_route_missing_from_the_state_is_named():
    config = blog_config()
    state = without(state_of(config), lambda e: e["type"] == T.ROUTE
                    and e["inputs"]["routeKey"] == "GET /RegularUser")
    message = problems_of(config, state)
    assert "route GET /RegularUser is not deployed" in message
    assert "GET /AdminUser" not in message


def test_a_stack_deployed_from_another_config_names_what_it_lacks():
    config = blog_config()
    other = copy.deepcopy(config)
    other[f"{NS}:routes"][1]["route"] = "GET /Regular"
    other[f"{NS}:users"].pop(1)
    message = problems_of(config, state_of(other))
    assert "route GET /RegularUser is not deployed" in message
    assert "test user regularuser is not deployed" in message


def test_a_user_missing_from_the_state_is_named():
    config = blog_config()
    state = without(state_of(config), lambda e: e["type"] == T.USER
                    and e["inputs"]["username"] == "adminuser")
    assert "test user adminuser is not deployed" in problems_of(config, state)


def test_a_user_without_a_password_in_the_state_is_named():
    config = blog_config()
    state = state_of(config)
    (user,) = [e for e in entries(state, T.USER) if e["inputs"]["username"] == "regularuser"]
    for part in props(user):
        part.pop("password")
    message = problems_of(config, state)
    assert "the state holds no password for regularuser" in message
    assert "adminuser" not in message


def test_a_pool_writing_the_scopes_into_the_other_token_is_named():
    config = blog_config()
    state = state_of(config)
    (pool,) = entries(state, T.USER_POOL)
    for part in props(pool):
        part["lambdaConfig"]["preTokenGenerationConfig"]["lambdaVersion"] = "V2_0"
    assert ("the plan puts the scopes in the id token but the deployed pool writes them into the "
            "access token") in problems_of(config, state)


def test_a_stage_without_a_url_is_named():
    config = blog_config()
    state = state_of(config)
    (stage,) = entries(state, T.STAGE)
    stage["outputs"].pop("invokeUrl")
    assert "the stage of GET /AdminUser has no URL: is it deployed?" in problems_of(config, state)


# ---- reading the state ----------------------------------------------------------------------

def test_a_missing_state_file_is_one_line(tmp_path):
    path = tmp_path / "state.json"
    with pytest.raises(StateError) as raised:
        read_state_file(path)
    assert str(raised.value) == f"cannot read state file {path}: No such file or directory"


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "not JSON"),
    ("[1, 2]", "expected a JSON object (a Pulumi state export)"),
])
def test_a_state_file_that_is_not_a_json_object_is_refused(tmp_path, text, message):
    path = tmp_path / "state.json"
    path.write_text(text)
    with pytest.raises(StateError) as raised:
        read_state_file(path)
    assert str(raised.value).startswith(f"{path}: {message}")


def test_a_state_file_reads_back_as_its_document(tmp_path):
    document = state_of(blog_config())
    path = tmp_path / "state.json"
    path.write_text(json.dumps(document))
    assert read_state_file(path) == document


@pytest.mark.parametrize("document", [
    {"api_url": "https://x/Test", "test_user_passwords": {}},  # `pulumi stack output --json`
    {"version": 3, "deployment": {"manifest": {}}},
    {"deployment": []},
])
def test_what_is_not_a_state_export_is_refused_naming_the_command(document):
    with pytest.raises(StateError) as raised:
        live_model(document, "outputs.json")
    assert str(raised.value).startswith("outputs.json: not a Pulumi state file: no "
                                        "deployment.resources")
    assert "pulumi stack export --show-secrets" in str(raised.value)


def test_secrets_in_plaintext_as_show_secrets_exports_them_are_read():
    """``pulumi stack export --show-secrets`` writes each secret as its signature and
    ``plaintext``, the value's JSON."""
    config = blog_config()
    state = state_of(config)
    passwords = {}
    for user in entries(state, T.USER):
        password = user["outputs"]["password"]["value"]
        passwords[user["inputs"]["username"]] = password
        for part in props(user):
            part["password"] = {SECRET_SIG_KEY: SECRET_SIG, "plaintext": json.dumps(password)}
    target = deployed(matrix_of(config), live_model(state))
    assert {name: s.password for name, s in target.sign_ins.items()} == passwords


def test_an_export_without_show_secrets_says_to_export_with_it():
    """Without ``--show-secrets`` each secret is its signature and ``ciphertext``."""
    state = state_of(blog_config())
    for user in entries(state, T.USER):
        for part in props(user):
            part["password"] = {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": "AAABAGZha2U="}
    with pytest.raises(StateError) as raised:
        live_model(state, "state.json")
    assert str(raised.value).startswith("state.json holds encrypted secrets (of ")
    assert str(raised.value).endswith("export it with `pulumi stack export --show-secrets`")


def test_the_pulumi_command_exports_the_state_with_secrets_of_the_stack():
    assert pulumi_command("dev") == ["pulumi", "stack", "export", "--show-secrets",
                                     "--stack", "dev"]
    assert pulumi_command(None) == ["pulumi", "stack", "export", "--show-secrets"]


def fake_pulumi(folder, script: str) -> None:
    """A ``pulumi`` on ``PATH`` that runs ``script`` (sh)."""
    path = folder / "pulumi"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_the_state_comes_from_the_pulumi_cli_run_in_the_project(tmp_path, monkeypatch):
    bin_dir, project = tmp_path / "bin", tmp_path / "project"
    bin_dir.mkdir()
    project.mkdir()
    document = {"version": 3, "deployment": {"resources": []}}
    (tmp_path / "state.json").write_text(json.dumps(document))
    fake_pulumi(bin_dir, f'echo "$@" > {tmp_path}/args; pwd > {tmp_path}/cwd; '
                         f'cat {tmp_path}/state.json\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert run_pulumi("dev", project) == document
    assert (tmp_path / "args").read_text().split() == pulumi_command("dev")[1:]
    assert (tmp_path / "cwd").read_text().strip() == str(project)


def test_a_failing_pulumi_cli_is_its_last_line_of_stderr(tmp_path, monkeypatch):
    fake_pulumi(tmp_path, 'echo "warning: something" >&2; '
                          'echo "error: no stack named \'dev\' found" >&2; exit 255\n')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(StateError) as raised:
        run_pulumi("dev", tmp_path)
    assert str(raised.value) == ("`pulumi stack export --show-secrets --stack dev` failed "
                                 "(exit 255): error: no stack named 'dev' found")


def test_without_the_pulumi_cli_the_message_says_to_pass_a_state_file(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StateError, match="the Pulumi CLI is not on PATH: .* pass --state FILE"):
        run_pulumi("dev", tmp_path)


# ---- answers, sign-in failures, retries ---------------------------------------------------

@pytest.mark.parametrize(("header", "reason"), [
    ('Bearer scope="" error="invalid_token" error_description="the token does not have a valid '
     'audience"', "the token does not have a valid audience"),
    ('Bearer error="invalid_token" error_description="say \\"hi\\""', 'say "hi"'),
    ("Bearer", None), (None, None),
])
def test_the_401_reason_is_the_www_authenticate_error_description(header, reason):
    assert error_description(header) == reason


def test_mismatches_are_listed_one_per_line_with_the_reason():
    ok = Outcome(Probe("adminuser", "GET /AdminUser", "GET", "/AdminUser", 200), 200)
    bad = Outcome(Probe("regularuser", "GET /AdminUser", "GET", "/AdminUser", 403), 200)
    why = Outcome(Probe("adminuser", "GET /RegularUser", "GET", "/RegularUser", 200), 401,
                  "the token has expired")
    assert mismatch_lines([ok]) == ["All 1 cells match."]
    assert mismatch_lines([ok, bad, why]) == [
        "2 mismatches:",
        "  regularuser  GET /AdminUser    expected 403, got 200",
        "  adminuser    GET /RegularUser  expected 200, got 401 (the token has expired)"]


def test_a_wrong_password_reads_as_one():
    message = sign_in_error_message("regularuser", CLIENT, "NotAuthorizedException",
                                    "Incorrect username or password.")
    assert message.startswith("cannot sign in 'regularuser': Cognito says 'Incorrect username or "
                              "password.' (NotAuthorizedException); wrong password?")


def test_a_client_without_user_password_auth_says_which_flow_to_allow():
    message = sign_in_error_message("adminuser", CLIENT, "InvalidParameterException",
                                    "USER_PASSWORD_AUTH flow not enabled for this client")
    assert f"the app client {CLIENT} does not allow USER_PASSWORD_AUTH" in message
    assert "add ALLOW_USER_PASSWORD_AUTH" in message


@pytest.mark.parametrize(("code", "hint"), [
    ("UserNotFoundException", "run `pulumi up`"),
    ("ResourceNotFoundException", "is the stack deployed?"),
    ("PasswordResetRequiredException", "an administrator must set a new password first"),
    ("ThrottlingException", "see Cognito's message"),
])
def test_each_refusal_says_what_to_do(code, hint):
    assert sign_in_error_message("u", CLIENT, code, "m").endswith(hint)


class RefusingCognito:
    def __init__(self, error):
        self.error = error

    def initiate_auth(self, **request):
        raise self.error


def test_sign_in_turns_cognitos_refusal_and_an_unreachable_cognito_into_one_line():
    refusal = ClientError({"Error": {"Code": "NotAuthorizedException",
                                     "Message": "Incorrect username or password."}},
                          "InitiateAuth")
    with pytest.raises(SignInError) as raised:
        sign_in(RefusingCognito(refusal), CLIENT, "regularuser", "pw")
    assert str(raised.value) == sign_in_error_message(
        "regularuser", CLIENT, "NotAuthorizedException", "Incorrect username or password.")
    with pytest.raises(SignInError, match="^cannot reach Cognito to sign in 'adminuser': "):
        sign_in(RefusingCognito(EndpointConnectionError(endpoint_url="http://127.0.0.1:9")),
                CLIENT, "adminuser", "pw")


@pytest.fixture
def no_aws_endpoints(monkeypatch, tmp_path):
    for name in (*ENDPOINT_VARIABLES, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    return monkeypatch


def test_sign_in_is_unsigned_in_the_pools_region(no_aws_endpoints):
    client = cognito_client("eu-west-2_AbCdEfGhI", attempts=3, timeout=4)
    assert client.meta.region_name == "eu-west-2"
    assert client.meta.endpoint_url == "https://cognito-idp.eu-west-2.amazonaws.com"
    assert client.meta.config.signature_version is botocore.UNSIGNED


def test_sign_in_goes_to_a_sandboxs_cognito_when_its_state_names_one(no_aws_endpoints):
    client = cognito_client("us-east-1_AbCdEfGhI", 1, 1, endpoint="http://127.0.0.1:5001")
    assert client.meta.endpoint_url == "http://127.0.0.1:5001"


@pytest.mark.parametrize("variable", ENDPOINT_VARIABLES)
def test_boto3s_standard_endpoint_variables_win_over_the_sandboxs(no_aws_endpoints, variable):
    no_aws_endpoints.setenv(variable, "http://127.0.0.1:4566")
    client = cognito_client("ap-southeast-2_AbCdEfGhI", 3, 4, endpoint="http://127.0.0.1:5001")
    assert client.meta.endpoint_url == "http://127.0.0.1:4566"
    assert client.meta.region_name == "ap-southeast-2"


def test_the_token_carrying_the_scopes_is_picked_by_token_use():
    result = {"AuthenticationResult": {"IdToken": "id.t.s", "AccessToken": "ac.t.s"}}
    assert token_from(result, "id", "u") == "id.t.s"
    assert token_from(result, "access", "u") == "ac.t.s"
    with pytest.raises(SignInError, match="NEW_PASSWORD_REQUIRED challenge"):
        token_from({"ChallengeName": "NEW_PASSWORD_REQUIRED"}, "id", "u")
    with pytest.raises(SignInError, match="returned no AccessToken"):
        token_from({"AuthenticationResult": {"IdToken": "x"}}, "access", "u")


@pytest.mark.parametrize(("status", "retry"), [
    (None, True), (503, True), (502, True), (500, True), (429, True), (404, True),
    (200, False), (401, False), (403, False),
])
def test_only_a_settling_stage_is_retried(status, retry):
    assert should_retry(status) is retry


def test_retries_are_bounded_with_doubling_capped_sleeps():
    assert RetryPolicy(attempts=5, backoff=1.0, max_sleep=3.0).sleeps() == [1.0, 2.0, 3.0, 3.0]
    assert RetryPolicy(attempts=1).sleeps() == []
    assert RetryPolicy(attempts=3, backoff=0).sleeps() == [0, 0]


@pytest.fixture
def answers(monkeypatch):
    """``send`` answering from a list (an exception is raised), ``sleep`` recorded."""
    script: list = []
    slept: list[float] = []

    def send(url, method, token, timeout, headers=None):
        item = script.pop(0)
        if isinstance(item, Exception):
            raise item
        return Answer(item, None, "")

    monkeypatch.setattr(probe_module, "send", send)
    monkeypatch.setattr(probe_module.time, "sleep", slept.append)
    return script, slept


def test_a_settling_stage_is_retried_until_it_answers(answers):
    script, slept = answers
    script += [503, OSError("refused"), 404, 200, 200]
    assert call("https://x/Test/a", "GET", None, RetryPolicy(attempts=5, backoff=0.5)).status == 200
    assert slept == [0.5, 1.0, 2.0]
    assert script == [200]  # no request after the answer worth keeping


def test_after_the_last_try_the_last_answer_is_reported(answers):
    script, slept = answers
    script += [503, 404, 502]
    assert call("https://x/Test/a", "GET", None, RetryPolicy(attempts=3, backoff=0)).status == 502
    assert len(slept) == 2


def test_no_answer_at_all_is_unreachable(answers):
    script, _ = answers
    script += [OSError("connection refused")] * 2
    with pytest.raises(Unreachable) as raised:
        call("https://x/Test/a", "GET", None, RetryPolicy(attempts=2, backoff=0))
    assert str(raised.value) == "cannot reach https://x/Test/a: connection refused (after 2 tries)"


# ---- the whole check, with Cognito and the API stood in for ---------------------------------

GOOD = "good"


@pytest.fixture
def stood_in(monkeypatch):
    """Cognito signing each user in with tokens ``<user>.<use>.good``, and an API answering as
    API Gateway would for the blog's routes; ``faults`` (path, user) -> a wrong status."""
    signed_in: list[tuple] = []
    faults: dict[tuple[str, str], int] = {}
    groups = {u["username"]: set(u["groups"]) for u in blog_config()[f"{NS}:users"]}
    needs = {f"/{r['route'].split(' /')[1]}": r["groups"][0]
             for r in blog_config()[f"{NS}:routes"]}

    def client(user_pool_id, attempts, timeout, endpoint=None):
        return (user_pool_id, endpoint)

    def fake_sign_in(cognito, client_id, username, password):
        signed_in.append((cognito, client_id, username, password))
        return {use: f"{username}.{use}.{GOOD}" for use in TokenUse}

    def gateway(url, method, token, policy, headers=None):
        stage, path = urlsplit(url).path.split("/", 2)[1:]
        if token is None:
            return Answer(401, 'Bearer error_description="the Authorization header is missing"', "")
        user, use, signature = token.split(".")
        if signature != GOOD:
            return Answer(401, 'Bearer error_description="the token signature is invalid"', "")
        scoped = groups[user] if use == TokenUse.ID else set()
        status = 200 if needs[f"/{path}"] in scoped else 403
        return Answer(faults.get((f"/{path}", user), status), None, "")

    monkeypatch.setattr(signin, "cognito_client", client)
    monkeypatch.setattr(signin, "sign_in", fake_sign_in)
    monkeypatch.setattr(verify_module, "call", gateway)
    return signed_in, faults


def test_run_signs_each_user_in_with_the_deployed_password_and_every_cell_matches(stood_in):
    signed_in, _ = stood_in
    config = blog_config()
    run = run_of(config)
    out = io.StringIO()
    code = verify_module.run(matrix_of(config), live_model(state_of(config)), RetryPolicy(), out)
    assert code == 0
    pool_id, client_id = run.one(T.USER_POOL).id, run.one(T.USER_POOL_CLIENT).id
    assert signed_in == [((pool_id, None), client_id, name, password)
                         for name, password in run.exports["test_user_passwords"].items()]
    lines = out.getvalue().splitlines()
    assert lines[0] == (f"Verifying {run.one(T.STAGE).outputs['invokeUrl']} with id tokens: "
                        "2 routes, 2 users signed in with their passwords (InitiateAuth)")
    assert lines[-1] == "All 10 cells match."


def test_run_reports_a_cell_the_api_answers_otherwise_and_exits_1(stood_in):
    _, faults = stood_in
    faults[("/AdminUser", "regularuser")] = 200
    config = blog_config()
    out = io.StringIO()
    code = verify_module.run(matrix_of(config), live_model(state_of(config)), RetryPolicy(), out,
                             fmt="json")
    document = json.loads(out.getvalue())
    assert code == 1 and document["mismatches"] == 1
    (bad,) = [o for o in document["outcomes"] if not o["ok"]]
    assert (bad["route"], bad["caller"], bad["expected"], bad["actual"]) == (
        "GET /AdminUser", "regularuser", 403, 200)
    assert len(document["outcomes"]) == 10


def test_run_does_not_sign_in_when_the_deployment_is_another(stood_in):
    signed_in, _ = stood_in
    config = blog_config()
    state = without(state_of(config), lambda e: e["type"] == T.ROUTE)
    with pytest.raises(VerifyError):
        verify_module.run(matrix_of(config), live_model(state), RetryPolicy(), io.StringIO())
    assert signed_in == []


# ---- through the command: what stops the check before any request -------------------------

@pytest.fixture(scope="module")
def blog_stack_file(tmp_path_factory):
    """The blog's config in a stack file of its own (``Pulumi.dev.yaml`` adds the browser app's
    CORS origin, which the stood-in gateway does not answer)."""
    path = tmp_path_factory.mktemp("blog") / "Pulumi.blog.yaml"
    path.write_text(json.dumps({"config": blog_config()}))
    return path


def verify_command(capsys, stack_file, *argv) -> tuple[int, str, str]:
    code = main(["verify", "-C", str(ROOT), "--config", str(stack_file), *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_verify_with_a_missing_state_file_is_one_error_line(tmp_path, capsys, blog_stack_file):
    path = tmp_path / "state.json"
    assert verify_command(capsys, blog_stack_file, "--state", str(path)) == (
        2, "", f"error: cannot read state file {path}: No such file or directory\n")


def test_verify_against_the_state_of_another_config_stops_before_signing_in(tmp_path, capsys,
                                                                              stood_in,
                                                                              blog_stack_file):
    signed_in, _ = stood_in
    other = copy.deepcopy(blog_config())
    other[f"{NS}:routes"].pop(1)
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state_of(other)))
    code, out, err = verify_command(capsys, blog_stack_file, "--state", str(path))
    assert (code, out, signed_in) == (2, "", [])
    assert err == ("error: the deployed stack does not match the plan: route GET /RegularUser is "
                   "not deployed (run `pulumi up` with this config first)\n")


def test_verify_of_a_matching_state_runs_the_check(tmp_path, capsys, stood_in,
                                                   blog_stack_file):
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state_of(blog_config())))
    code, out, err = verify_command(capsys, blog_stack_file, "--state", str(path), "--format", "json")
    assert (code, err) == (0, "")
    assert json.loads(out)["mismatches"] == 0
