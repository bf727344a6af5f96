"""The sandbox's hosted UI, end to end on 127.0.0.1, driven by clients nobody on this project
wrote: authlib discovers the pool, builds the authorization URL with PKCE S256 and exchanges
the code; requests plays the browser (cookies, the login form, never fetching the callback).
Each endpoint is held to the Cognito developer guide's pages ("The redirect and authorization
endpoint", "Login endpoint", "The token issuer endpoint", "The user attributes endpoint", "The
token revocation endpoint", "The logout endpoint") and, where they are silent, to RFC 6749,
RFC 7009 and OpenID Connect Core."""

from __future__ import annotations

import base64
import json
import logging
import time
import warnings
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import urlencode, urlsplit

import jwt
import pytest
import requests
from joserfc.errors import InvalidClaimError
from moto.cognitoidp import models as moto_cognito

from jwt_scoped.sandbox.hosted_ui import user_info

from fixtures.stacks import NS, blog_config
from hosted_ui_client import Browser, CodeFlow, code_flow, query_of, read_page
from sandbox_harness import call, function_code, started
from sandbox_harness import sign_in as api_sign_in

with warnings.catch_warnings():  # authlib 1.x points to joserfc; authlib.jose still works
    warnings.filterwarnings("ignore", message="authlib.jose module is deprecated")
    from authlib.jose import JsonWebKey
    from authlib.jose import jwt as jose_jwt
    from authlib.jose.errors import BadSignatureError
    from authlib.jose.errors import InvalidClaimError as AuthlibInvalidClaim
    from authlib.oidc.core import CodeIDToken
    from authlib.oidc.discovery import OpenIDProviderMetadata

CALLBACK = "http://localhost:3000/callback"  # the blog's (Pulumi.dev.yaml)
SIGNED_OUT = "http://localhost:3000/signed-out"
SCOPES = "openid email phone profile"  # what the blog's client may ask for
ADMIN_SCOPE = "aws.cognito.signin.user.admin"
TIMEOUT = 10
USED: set[str] = set()
"""Every password, code and token this module handled: none may show in a log."""


def remember(*secrets: object) -> None:
    USED.update(s for s in secrets if isinstance(s, str) and s)


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


# ---- the sandboxes ---------------------------------------------------------------------------


@dataclass
class Pool:
    """One sandbox's pool, domain and app clients, as its outputs name them."""

    sandbox: object
    pool_id: str
    client_id: str
    issuer: str
    discovery_url: str
    base: str
    """The domain's local hosted UI, ``http://127.0.0.1:<port>``."""
    ui: object
    """The domain's ``HostedUi`` (its code clock can be moved)."""
    discovery: dict
    other_client: str | None = None
    """Another OAuth client of the same pool: code grant, scopes ``openid`` and
    ``aws.cognito.signin.user.admin``."""
    no_revocation_client: str | None = None
    """An OAuth client with token revocation off."""
    no_oauth_client: str | None = None
    """An app client the OAuth endpoints do not serve (``AllowedOAuthFlowsUserPoolClient``
    false)."""
    confidential: tuple[str, str] | None = None
    """(id, secret) of an OAuth client with a secret."""

    @property
    def outputs(self) -> dict:
        return self.sandbox.outputs

    def password(self, user: str) -> str:
        return self.outputs["test_user_passwords"][user]

    def url(self, path: str, **query: str) -> str:
        return self.base + path + (f"?{urlencode(query)}" if query else "")


def pool_of(sandbox) -> Pool:
    outputs = sandbox.outputs
    ((pool_id, pool),) = outputs["sandbox"]["user_pools"].items()
    ((domain, base),) = pool["domains"].items()
    discovery = requests.get(pool["discovery_url"], timeout=TIMEOUT).json()
    return Pool(sandbox, pool_id, outputs["app_client_id"], pool["issuer"],
                pool["discovery_url"], base, sandbox.hosted_uis[domain], discovery)


def add_clients(pool: Pool) -> Pool:
    """More app clients of the pool, created as the API creates them."""
    backend = pool.sandbox.cognito.backend
    oauth = {"AllowedOAuthFlowsUserPoolClient": True, "AllowedOAuthFlows": ["code"],
             "CallbackURLs": [CALLBACK], "SupportedIdentityProviders": ["COGNITO"],
             "PreventUserExistenceErrors": "ENABLED"}
    pool.other_client = backend.create_user_pool_client(pool.pool_id, False, {
        "ClientName": "other", **oauth, "AllowedOAuthScopes": ["openid", ADMIN_SCOPE]}).id
    pool.no_revocation_client = backend.create_user_pool_client(pool.pool_id, False, {
        "ClientName": "no-revocation", **oauth, "AllowedOAuthScopes": ["openid"],
        "EnableTokenRevocation": False}).id
    pool.no_oauth_client = backend.create_user_pool_client(pool.pool_id, False, {
        "ClientName": "api-only", "AllowedOAuthFlowsUserPoolClient": False,
        "CallbackURLs": [CALLBACK]}).id
    confidential = backend.create_user_pool_client(pool.pool_id, True, {
        "ClientName": "confidential", **oauth, "AllowedOAuthScopes": ["openid"]})
    pool.confidential = (confidential.id, confidential.secret)
    remember(confidential.secret)
    return pool


@pytest.fixture(scope="module")
def blog(tmp_path_factory):
    """The blog's stack (tokenUse id) with a sign-out URL, and more app clients."""
    config = blog_config()
    config[f"{NS}:logoutUrls"] = [SIGNED_OUT]
    with started(config, tmp_path_factory.mktemp("hosted-ui")) as sandbox:
        yield add_clients(pool_of(sandbox))


@pytest.fixture(scope="module")
def access_pool(tmp_path_factory):
    """The blog's stack with ``tokenUse: access``: the group scopes go in the access token."""
    config = blog_config()
    config[f"{NS}:tokenUse"] = "access"
    with started(config, tmp_path_factory.mktemp("hosted-ui-access")) as sandbox:
        yield pool_of(sandbox)


# A Pre Token Generation trigger (V1_0 event, the blog's) that only says why it was called.
TRACING_TRIGGER = """
def handler(event, context):
    event["response"]["claimsOverrideDetails"] = {
        "claimsToAddOrOverride": {"trigger_source": event["triggerSource"],
                                  "trigger_client": event["callerContext"]["clientId"]}}
    return event
"""


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    def edit(typ, name, inputs):
        if typ == "aws:lambda/function:Function" and "pre-token" in name:
            return function_code(name, {"handler.py": TRACING_TRIGGER})(typ, name, inputs)
        return inputs

    with started(blog_config(), tmp_path_factory.mktemp("hosted-ui-traced"),
                 edit=edit) as sandbox:
        yield pool_of(sandbox)


# ---- signing in as a browser does --------------------------------------------------------------


@dataclass
class SignedIn:
    flow: CodeFlow
    browser: Browser
    callback: dict[str, str]
    """The query the hosted UI sent the browser to the callback with."""
    tokens: dict

    @property
    def id_token(self) -> str:
        return self.tokens["id_token"]

    @property
    def access_token(self) -> str:
        return self.tokens["access_token"]

    @property
    def refresh_token(self) -> str:
        return self.tokens["refresh_token"]


def to_callback(pool: Pool, flow: CodeFlow, browser: Browser, user: str | None) -> dict:
    """Open the flow's URL; on the login page, sign ``user`` in. The callback's query."""
    answer = browser.open(flow.url, flow.redirect_uri)
    if answer.status_code == 200:
        assert user is not None, "the hosted UI asked for a sign-in"
        assert urlsplit(answer.url).path == "/login"
        password = pool.password(user) if user in pool.outputs["test_user_passwords"] else None
        remember(password, browser.session.cookies.get(pool.ui.csrf_cookie))
        answer = browser.submit(answer, user, password)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(flow.redirect_uri + "?"), location
    query = query_of(location)
    remember(query.get("code"), browser.session.cookies.get(pool.ui.session_cookie))
    return query


def start_flow(pool: Pool, scope: str = SCOPES, client_id: str | None = None,
               **extra: str) -> CodeFlow:
    return code_flow(pool.discovery["authorization_endpoint"], client_id or pool.client_id,
                     CALLBACK, scope, **extra)


def hosted_sign_in(pool: Pool, user: str, scope: str = SCOPES, browser: Browser | None = None,
                   client_id: str | None = None, **extra: str) -> SignedIn:
    """``user`` signs in through the hosted UI; authlib exchanges the code (checking the
    state)."""
    browser = browser or Browser()
    flow = start_flow(pool, scope, client_id, **extra)
    callback = to_callback(pool, flow, browser, user)
    assert callback["state"] == flow.state and "error" not in callback, callback
    tokens = flow.exchange(pool.discovery["token_endpoint"], flow.redirect_uri + "?" +
                           urlencode(callback))
    remember(tokens.get("id_token"), tokens.get("access_token"), tokens.get("refresh_token"))
    return SignedIn(flow, browser, callback, tokens)


def fresh_code(pool: Pool, browser: Browser, **extra: str) -> tuple[CodeFlow, str]:
    """A new code for ``browser``'s signed-in session (no login page)."""
    flow = start_flow(pool, **extra)
    callback = to_callback(pool, flow, browser, None)
    return flow, callback["code"]


@pytest.fixture(scope="module")
def session(blog) -> Browser:
    """A browser in which adminuser signed in once."""
    return hosted_sign_in(blog, "adminuser").browser


def post_form(url: str, data: dict, **kwargs) -> requests.Response:
    remember(*(v for k, v in data.items() if k in ("code", "token", "refresh_token",
                                                    "code_verifier")))
    return requests.post(url, data=data, allow_redirects=False, timeout=TIMEOUT, **kwargs)


def token_request(pool: Pool, **form: str) -> requests.Response:
    return post_form(pool.discovery["token_endpoint"], form)


def code_exchange(pool: Pool, flow: CodeFlow, code: str, /,
                  **changes: str | None) -> requests.Response:
    """The token request for ``code`` as authlib would send it, with ``changes`` (``None``:
    leave the field out)."""
    form = {"grant_type": "authorization_code", "code": code, "client_id": pool.client_id,
            "redirect_uri": flow.redirect_uri, "code_verifier": flow.verifier}
    for name, value in changes.items():
        if value is None:
            form.pop(name)
        else:
            form[name] = value
    return token_request(pool, **form)


def userinfo(pool: Pool, access_token: str | None, method: str = "GET") -> requests.Response:
    headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
    return requests.request(method, pool.discovery["userinfo_endpoint"], headers=headers,
                            timeout=TIMEOUT)


def revoke(pool: Pool, **form: str) -> requests.Response:
    return post_form(pool.discovery["revocation_endpoint"], form)


def assert_error_page(answer: requests.Response, error: str) -> None:
    """Cognito's error page: 400, no redirect anywhere, the error's code on the page."""
    assert answer.status_code == 400, (answer.status_code, answer.headers, answer.text)
    assert "location" not in answer.headers
    assert answer.headers["content-type"].startswith("text/html")
    assert read_page(answer.text).texts.get("errorCode") == error, answer.text


def assert_json_error(answer: requests.Response, status: int, error: str) -> None:
    assert (answer.status_code, answer.json().get("error")) == (status, error), answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert set(answer.json()) <= {"error", "error_description"}


# ---- 1. discovery, with authlib --------------------------------------------------------------


def test_authlib_validates_the_discovery_document_and_its_endpoints_are_local(blog):
    """The document passes authlib's OpenID Provider Metadata checks; every endpoint is the
    domain's local one, the keys the pool's local ones; the issuer is the tokens' and the API's
    (``issuer_url``), the AWS form."""
    document = blog.discovery
    OpenIDProviderMetadata(document).validate()
    assert document["issuer"] == blog.issuer == blog.outputs["issuer_url"] == (
        f"https://cognito-idp.us-east-1.amazonaws.com/{blog.pool_id}")
    assert {name: document[name] for name in (
        "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "revocation_endpoint",
        "end_session_endpoint")} == {
        "authorization_endpoint": f"{blog.base}/oauth2/authorize",
        "token_endpoint": f"{blog.base}/oauth2/token",
        "userinfo_endpoint": f"{blog.base}/oauth2/userInfo",
        "revocation_endpoint": f"{blog.base}/oauth2/revoke",
        "end_session_endpoint": f"{blog.base}/logout"}
    assert urlsplit(blog.base).hostname == "127.0.0.1"
    local_issuer = blog.outputs["sandbox"]["user_pools"][blog.pool_id]["local_issuer"]
    assert document["jwks_uri"] == f"{local_issuer}/.well-known/jwks.json"
    assert blog.discovery_url == f"{local_issuer}/.well-known/openid-configuration"
    assert "S256" in document["code_challenge_methods_supported"]
    # The local hosted UI URL output is the program's, on the local domain.
    local = blog.outputs["sandbox"]["local_outputs"]["hosted_ui_url"]
    assert local.startswith(document["authorization_endpoint"] + "?")
    assert query_of(local) == query_of(blog.outputs["hosted_ui_url"])


def test_the_discovered_keys_verify_the_id_token_as_an_oidc_client_checks_it(blog):
    signed_in = hosted_sign_in(blog, "regularuser")
    keys = JsonWebKey.import_key_set(
        requests.get(blog.discovery["jwks_uri"], timeout=TIMEOUT).json())
    options = {"iss": {"essential": True, "value": blog.discovery["issuer"]},
               "aud": {"essential": True, "value": blog.client_id},
               "nonce": {"essential": True, "value": signed_in.flow.nonce}}
    params = {"nonce": signed_in.flow.nonce, "client_id": blog.client_id}
    claims = jose_jwt.decode(signed_in.id_token, keys, claims_cls=CodeIDToken,
                             claims_options=options, claims_params=params)
    claims.validate()
    assert claims["iss"] == blog.outputs["issuer_url"] and claims["token_use"] == "id"
    assert claims["cognito:username"] == "regularuser"
    access = jose_jwt.decode(signed_in.access_token, keys)
    access.validate()
    assert access["iss"] == claims["iss"] and access["client_id"] == blog.client_id
    # The checks are real: claims changed under the signature, or another nonce, are refused.
    head, _, signature = signed_in.id_token.split(".")
    body = base64.urlsafe_b64encode(json.dumps(
        {**claims_of(signed_in.id_token), "cognito:username": "adminuser"}).encode())
    with pytest.raises(BadSignatureError):
        jose_jwt.decode(".".join([head, body.decode().rstrip("="), signature]), keys)
    other = jose_jwt.decode(signed_in.id_token, keys, claims_cls=CodeIDToken,
                            claims_params={**params, "nonce": "another"})
    with pytest.raises((AuthlibInvalidClaim, InvalidClaimError)):  # authlib 1.9 runs joserfc's
        other.validate()


ORIGIN = {"Origin": "http://localhost:5173"}


def allowed_origins(answer: requests.Response) -> list[str]:
    """Every ``Access-Control-Allow-Origin`` header sent (a browser refuses more than one)."""
    return answer.raw.headers.getlist("access-control-allow-origin")


def test_discovery_and_the_json_endpoints_allow_any_origin(blog):
    for headers in ({}, ORIGIN):
        answer = requests.get(blog.discovery_url, headers=headers, timeout=TIMEOUT)
        assert answer.status_code == 200 and allowed_origins(answer) == ["*"]
    for url in (blog.discovery["token_endpoint"], blog.discovery["userinfo_endpoint"],
                blog.discovery["revocation_endpoint"]):
        preflight = requests.options(url, headers={
            **ORIGIN, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,authorization"}, timeout=TIMEOUT)
        assert preflight.status_code in (200, 204), url
        assert preflight.headers["access-control-allow-origin"] == "*"
        assert "POST" in preflight.headers["access-control-allow-methods"]
        assert {"content-type", "authorization"} <= {
            h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")}
    refused = token_request(blog, grant_type="authorization_code", code="nothing",
                            client_id=blog.client_id, redirect_uri=CALLBACK)
    assert refused.status_code == 400 and allowed_origins(refused) == ["*"]
    flow, code = fresh_code(blog, hosted_sign_in(blog, "regularuser").browser)
    granted = code_exchange(blog, flow, code)
    assert granted.status_code == 200 and allowed_origins(granted) == ["*"]
    remember(*granted.json().values())


def test_the_keys_allow_any_origin_with_one_header(blog):
    for headers in ({}, ORIGIN):
        answer = requests.get(blog.discovery["jwks_uri"], headers=headers, timeout=TIMEOUT)
        assert answer.status_code == 200 and answer.json()["keys"]
        assert allowed_origins(answer) == ["*"], headers


# ---- 2. the code flow with PKCE, end to end --------------------------------------------------


def test_the_code_flow_carries_state_and_nonce_and_the_tokens_hold_the_scopes(blog):
    signed_in = hosted_sign_in(blog, "adminuser")
    assert signed_in.callback["state"] == signed_in.flow.state
    assert set(signed_in.callback) == {"code", "state"}
    assert query_of(signed_in.flow.url)["code_challenge_method"] == "S256"
    tokens = signed_in.tokens
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    id_claims, access = claims_of(signed_in.id_token), claims_of(signed_in.access_token)
    assert id_claims["nonce"] == signed_in.flow.nonce and "nonce" not in access
    assert id_claims["aud"] == blog.client_id and id_claims["cognito:username"] == "adminuser"
    # tokenUse id: the group scopes are the ID token's, the OAuth scopes the access token's.
    scopes = blog.outputs["scopes"]
    assert id_claims["scope"].split() == [scopes["admin"], scopes["regular"]]
    assert sorted(access["scope"].split()) == sorted(SCOPES.split())
    assert access["username"] == "adminuser" and access["token_use"] == "access"
    assert id_claims["origin_jti"] == access["origin_jti"] and id_claims["sub"] == access["sub"]


@pytest.mark.parametrize("scope", ["openid", "openid profile", "phone openid"])
def test_the_access_token_holds_exactly_the_scopes_granted(blog, session, scope):
    flow, code = fresh_code(blog, session, scope=scope)
    answer = code_exchange(blog, flow, code)
    assert answer.status_code == 200
    remember(*answer.json().values())
    assert sorted(claims_of(answer.json()["access_token"])["scope"].split()) == sorted(scope.split())


def test_without_a_scope_the_client_gets_all_its_allowed_scopes(blog, session):
    """"If you don't request any scopes, the authorization server assigns all scopes that are
    associated with the client"."""
    flow = code_flow(blog.discovery["authorization_endpoint"], blog.client_id, CALLBACK, "")
    assert "scope" not in query_of(flow.url)
    code = to_callback(blog, flow, session, None)["code"]
    answer = code_exchange(blog, flow, code)
    assert answer.status_code == 200, answer.text
    remember(*answer.json().values())
    assert sorted(claims_of(answer.json()["access_token"])["scope"].split()) == sorted(
        SCOPES.split())


@pytest.mark.parametrize(("user", "admin", "regular"), [("adminuser", 200, 200),
                                                        ("regularuser", 403, 200)])
def test_the_hosted_ui_id_token_calls_the_api_as_the_blogs_matrix_says(blog, user, admin, regular):
    signed_in = hosted_sign_in(blog, user)
    routes = blog.outputs["route_urls"]
    got = {route: call(routes[route], token=signed_in.id_token).status
           for route in ("GET /AdminUser", "GET /RegularUser")}
    assert got == {"GET /AdminUser": admin, "GET /RegularUser": regular}
    # tokenUse id: the access token is valid but carries no group scope.
    assert {route: call(url, token=signed_in.access_token).status
            for route, url in routes.items()} == {"GET /AdminUser": 403, "GET /RegularUser": 403}
    answer = call(routes["GET /RegularUser"], token=f"Bearer {signed_in.id_token}")
    assert answer.json() == {"message": "Hello from Regular User", "caller": user}


@pytest.mark.parametrize(("user", "admin", "regular"), [("adminuser", 200, 200),
                                                        ("regularuser", 403, 200)])
def test_with_token_use_access_the_access_token_holds_oauth_and_group_scopes_and_admits(
        access_pool, user, admin, regular):
    signed_in = hosted_sign_in(access_pool, user)
    scopes = access_pool.outputs["scopes"]
    groups = [scopes["admin"], scopes["regular"]] if user == "adminuser" else [scopes["regular"]]
    assert sorted(claims_of(signed_in.access_token)["scope"].split()) == sorted(
        [*SCOPES.split(), *groups])
    routes = access_pool.outputs["route_urls"]
    assert {route: call(url, token=signed_in.access_token).status
            for route, url in routes.items()} == {"GET /AdminUser": admin,
                                                  "GET /RegularUser": regular}
    # The ID token is not what this stack's authorizer takes scopes from.
    assert call(routes["GET /RegularUser"], token=signed_in.id_token).status == 403


# ---- 3. the Pre Token Generation trigger's sources ----------------------------------------------


def test_the_trigger_runs_with_hosted_auth_for_the_code_and_refresh_tokens_for_a_refresh(traced):
    signed_in = hosted_sign_in(traced, "regularuser")
    first = claims_of(signed_in.id_token)
    assert (first["trigger_source"], first["trigger_client"]) == (
        "TokenGeneration_HostedAuth", traced.client_id)
    refreshed = token_request(traced, grant_type="refresh_token", client_id=traced.client_id,
                              refresh_token=signed_in.refresh_token)
    assert refreshed.status_code == 200, refreshed.text
    remember(*refreshed.json().values())
    assert claims_of(refreshed.json()["id_token"])["trigger_source"] == (
        "TokenGeneration_RefreshTokens")
    # The API's password sign-in, for contrast.
    assert claims_of(api_sign_in(traced.sandbox, "regularuser")["IdToken"])["trigger_source"] == (
        "TokenGeneration_Authentication")


# ---- 4. the browser's session ----------------------------------------------------------------


def test_a_signed_in_browser_goes_straight_back_with_a_new_code(blog):
    signed_in = hosted_sign_in(blog, "regularuser")
    flow = start_flow(blog)
    answer = signed_in.browser.get(flow.url)
    assert answer.status_code == 302  # no login page
    callback = query_of(answer.headers["location"])
    assert answer.headers["location"].startswith(CALLBACK + "?")
    assert callback["state"] == flow.state and callback["code"] != signed_in.callback["code"]
    remember(callback["code"])
    tokens = flow.exchange(blog.discovery["token_endpoint"], answer.headers["location"])
    remember(*tokens.values())
    assert claims_of(tokens["id_token"])["cognito:username"] == "regularuser"
    assert claims_of(tokens["id_token"])["nonce"] == flow.nonce


def test_prompt_login_shows_the_page_again_and_prompt_none_needs_a_session(blog, session):
    again = session.open(start_flow(blog, prompt="login").url, CALLBACK)
    assert again.status_code == 200 and urlsplit(again.url).path == "/login"
    assert read_page(again.text).forms[0].fields.keys() >= {"_csrf", "username", "password"}
    # prompt=none with the session: a code, silently.
    silent = start_flow(blog, prompt="none")
    assert "code" in to_callback(blog, silent, session, None)
    # prompt=none in a browser with no session: login_required, to the callback, with the state.
    flow = start_flow(blog, prompt="none")
    answer = Browser().get(flow.url)
    assert answer.status_code == 302
    assert answer.headers["location"].startswith(CALLBACK + "?")
    assert query_of(answer.headers["location"]) == {"error": "login_required",
                                                    "state": flow.state}


def test_state_and_nonce_come_back_exactly_whatever_their_characters(blog, session):
    state, nonce = "a b&c=d/é?#%20+", "n+o n/c=e&é"
    flow = start_flow(blog, state=state, nonce=nonce)
    assert flow.state == state
    callback = to_callback(blog, flow, session, None)
    assert callback["state"] == state
    tokens = flow.exchange(blog.discovery["token_endpoint"], CALLBACK + "?" + urlencode(callback))
    remember(*tokens.values())
    assert claims_of(tokens["id_token"])["nonce"] == nonce


def test_the_session_lasts_one_hour(blog, monkeypatch):
    signed_in = hosted_sign_in(blog, "regularuser")
    clock = blog.ui.clock
    monkeypatch.setattr(blog.ui, "clock", lambda: clock() + 3590)
    assert signed_in.browser.get(start_flow(blog).url).status_code == 302  # still signed in
    monkeypatch.setattr(blog.ui, "clock", lambda: clock() + 3601)
    page = signed_in.browser.open(start_flow(blog).url, CALLBACK)
    assert page.status_code == 200 and urlsplit(page.url).path == "/login"


# ---- 5. refresh and revocation -----------------------------------------------------------------


def test_a_refresh_gives_new_id_and_access_tokens_and_no_refresh_token(blog):
    signed_in = hosted_sign_in(blog, "adminuser")
    answer = token_request(blog, grant_type="refresh_token", client_id=blog.client_id,
                           refresh_token=signed_in.refresh_token)
    assert answer.status_code == 200, answer.text
    document = answer.json()
    remember(*document.values())
    assert "refresh_token" not in document  # Cognito returns none on refresh
    assert {"id_token", "access_token", "token_type", "expires_in"} <= set(document)
    new_id, old_id = claims_of(document["id_token"]), claims_of(signed_in.id_token)
    assert new_id["jti"] != old_id["jti"] and new_id["origin_jti"] == old_id["origin_jti"]
    assert new_id["scope"] == old_id["scope"]  # the trigger ran again
    assert sorted(claims_of(document["access_token"])["scope"].split()) == sorted(SCOPES.split())
    # authlib's own refresh works too (it keeps the refresh token it had).
    again = signed_in.flow.oauth.refresh_token(blog.discovery["token_endpoint"],
                                               refresh_token=signed_in.refresh_token)
    remember(again["access_token"], again["id_token"])
    assert claims_of(again["id_token"])["cognito:username"] == "adminuser"


def test_revoking_the_refresh_token_ends_refreshes_and_its_access_tokens(blog):
    signed_in = hosted_sign_in(blog, "regularuser")
    refreshed = token_request(blog, grant_type="refresh_token", client_id=blog.client_id,
                              refresh_token=signed_in.refresh_token).json()
    remember(*refreshed.values())
    assert userinfo(blog, signed_in.access_token).status_code == 200
    answer = revoke(blog, token=signed_in.refresh_token, client_id=blog.client_id)
    assert (answer.status_code, answer.content) == (200, b"")
    again = token_request(blog, grant_type="refresh_token", client_id=blog.client_id,
                          refresh_token=signed_in.refresh_token)
    assert_json_error(again, 400, "invalid_grant")
    for access_token in (signed_in.access_token, refreshed["access_token"]):
        refused = userinfo(blog, access_token)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    # Revoking it again, or a token that never was: 200 (RFC 7009 2.2).
    assert revoke(blog, token=signed_in.refresh_token, client_id=blog.client_id).status_code == 200
    assert revoke(blog, token="not-a-token",  # noqa: S106
                  client_id=blog.client_id).status_code == 200


def test_authlib_revokes_with_its_own_request(blog):
    signed_in = hosted_sign_in(blog, "adminuser")
    answer = signed_in.flow.oauth.revoke_token(blog.discovery["revocation_endpoint"],
                                               token=signed_in.refresh_token,
                                               token_type_hint="refresh_token")  # noqa: S106
    assert answer.status_code == 200
    assert token_request(blog, grant_type="refresh_token", client_id=blog.client_id,
                         refresh_token=signed_in.refresh_token).status_code == 400


def test_another_clients_refresh_token_is_neither_refreshed_nor_revoked(blog, session):
    signed_in = hosted_sign_in(blog, "adminuser")
    stolen = token_request(blog, grant_type="refresh_token", client_id=blog.other_client,
                           refresh_token=signed_in.refresh_token)
    assert_json_error(stolen, 400, "invalid_grant")
    # Revoking it as another client: 200, as for any token that is not the client's (RFC 7009
    # 2.2, "The token revocation endpoint"), and nothing revoked.
    assert revoke(blog, token=signed_in.refresh_token, client_id=blog.other_client).status_code == 200
    still = token_request(blog, grant_type="refresh_token", client_id=blog.client_id,
                          refresh_token=signed_in.refresh_token)
    assert still.status_code == 200
    remember(*still.json().values())


def later(monkeypatch, seconds: int) -> None:
    """moto's Cognito mints the next tokens ``seconds`` from now (its ``iat``, ``auth_time``,
    ``exp``); nothing else's clock moves."""
    now = time.time
    monkeypatch.setattr(moto_cognito, "time", SimpleNamespace(time=lambda: now() + seconds))


def test_a_refresh_keeps_the_time_the_user_signed_in(blog, monkeypatch):
    signed_in = hosted_sign_in(blog, "adminuser")
    signed_at = claims_of(signed_in.id_token)["auth_time"]
    later(monkeypatch, 100)
    answer = token_request(blog, grant_type="refresh_token", client_id=blog.client_id,
                           refresh_token=signed_in.refresh_token)
    remember(*answer.json().values())
    refreshed = claims_of(answer.json()["id_token"])
    assert refreshed["iat"] >= signed_at + 100  # a new token
    assert refreshed["auth_time"] == signed_at


def test_a_code_from_the_session_carries_the_time_of_the_sign_in(blog, monkeypatch):
    signed_in = hosted_sign_in(blog, "regularuser")
    signed_at = claims_of(signed_in.id_token)["auth_time"]
    later(monkeypatch, 100)
    flow, code = fresh_code(blog, signed_in.browser)
    answer = code_exchange(blog, flow, code)
    remember(*answer.json().values())
    assert claims_of(answer.json()["id_token"])["auth_time"] == signed_at


def test_a_disabled_user_can_no_longer_refresh(blog):
    backend = blog.sandbox.cognito.backend
    password = "Disabled-Refresh-1"
    backend.admin_create_user(blog.pool_id, "refreshdisabled", "SUPPRESS", None, [])
    backend.admin_set_user_password(blog.pool_id, "refreshdisabled", password, True)
    remember(password)
    flow = start_flow(blog, scope="openid")
    browser = Browser()
    callback = query_of(browser.submit(browser.open(flow.url, CALLBACK), "refreshdisabled",
                                       password).headers["location"])
    tokens = flow.exchange(blog.discovery["token_endpoint"], CALLBACK + "?" + urlencode(callback))
    remember(callback["code"], *tokens.values())
    backend.admin_disable_user(blog.pool_id, "refreshdisabled")
    answer = token_request(blog, grant_type="refresh_token", client_id=blog.client_id,
                           refresh_token=tokens["refresh_token"])
    if answer.ok:
        remember(*answer.json().values())
    assert_json_error(answer, 400, "invalid_grant")


# ---- 6. userInfo ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_userinfo_answers_an_openid_access_token_with_sub_and_username(blog, method):
    signed_in = hosted_sign_in(blog, "adminuser", scope="openid")
    answer = userinfo(blog, signed_in.access_token, method)
    assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == "*"
    sub = claims_of(signed_in.id_token)["sub"]
    assert answer.json() == {"sub": sub, "username": "adminuser"}


def test_userinfo_refuses_a_token_without_openid_and_no_token(blog):
    # A code-flow access token of a client that asked only for the admin scope.
    browser = Browser()
    without = hosted_sign_in(blog, "regularuser", scope=ADMIN_SCOPE, browser=browser,
                             client_id=blog.other_client)
    assert claims_of(without.access_token)["scope"] == ADMIN_SCOPE
    assert "id_token" not in without.tokens  # no openid, no ID token
    # InitiateAuth's access token: no OAuth scope ("the userInfo endpoint doesn't accept these");
    # and an ID token is not an access token.
    api_tokens = api_sign_in(blog.sandbox, "regularuser")
    remember(*api_tokens.values())
    for token in (without.access_token, api_tokens["AccessToken"], api_tokens["IdToken"]):
        answer = userinfo(blog, token)
        assert answer.status_code == 401, answer.text
        assert answer.headers["www-authenticate"].startswith(
            'Bearer error="invalid_token", error_description="')
        assert answer.json()["error"] == "invalid_token"
    for headers in ({}, {"Authorization": "Basic YTpi"}, {"Authorization": "Bearer "},
                    {"Authorization": "Bearer not-a-token"}):
        answer = requests.get(blog.discovery["userinfo_endpoint"], headers=headers,
                              timeout=TIMEOUT)
        assert answer.status_code == 401, headers
        assert answer.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_userinfo_refuses_the_token_of_a_user_disabled_since(blog):
    backend = blog.sandbox.cognito.backend
    password = "Disabled-Later-1"
    backend.admin_create_user(blog.pool_id, "laterdisabled", "SUPPRESS", None, [])
    backend.admin_set_user_password(blog.pool_id, "laterdisabled", password, True)
    remember(password)
    browser = Browser()
    flow = start_flow(blog, scope="openid")
    page = browser.open(flow.url, CALLBACK)
    callback = query_of(browser.submit(page, "laterdisabled", password).headers["location"])
    tokens = flow.exchange(blog.discovery["token_endpoint"], CALLBACK + "?" + urlencode(callback))
    remember(callback["code"], *tokens.values())
    assert userinfo(blog, tokens["access_token"]).status_code == 200
    backend.admin_disable_user(blog.pool_id, "laterdisabled")
    assert userinfo(blog, tokens["access_token"]).status_code == 401
    # Nor does the browser's session sign the disabled user in again.
    assert browser.open(start_flow(blog).url, CALLBACK).status_code == 200


# ---- 7. logout -----------------------------------------------------------------------------------


def test_logout_to_a_sign_out_url_ends_the_session(blog):
    signed_in = hosted_sign_in(blog, "regularuser")
    answer = signed_in.browser.get(blog.url("/logout", client_id=blog.client_id,
                                            logout_uri=SIGNED_OUT))
    assert (answer.status_code, answer.headers["location"]) == (302, SIGNED_OUT)
    page = signed_in.browser.open(start_flow(blog).url, CALLBACK)
    assert page.status_code == 200 and urlsplit(page.url).path == "/login"
    # prompt=none now finds no session either.
    flow = start_flow(blog, prompt="none")
    assert query_of(signed_in.browser.get(flow.url).headers["location"])["error"] == (
        "login_required")


def test_logout_with_redirect_uri_and_response_type_shows_the_login_page(blog):
    """"Logout and prompt the user to sign in as another user"."""
    signed_in = hosted_sign_in(blog, "regularuser")
    answer = signed_in.browser.open(blog.url("/logout", client_id=blog.client_id,
                                             redirect_uri=CALLBACK, response_type="code",
                                             scope="openid"), CALLBACK)
    assert answer.status_code == 200 and urlsplit(answer.url).path == "/login"
    assert signed_in.browser.open(start_flow(blog).url, CALLBACK).status_code == 200


@pytest.mark.parametrize("query", [
    {"logout_uri": "http://localhost:3000/elsewhere"},
    {"logout_uri": CALLBACK},  # a callback URL is not a sign-out URL
    {"logout_uri": SIGNED_OUT, "client_id": "unknown-client"},
    {"logout_uri": SIGNED_OUT, "client_id": None},
], ids=["unlisted-logout-uri", "callback-as-logout-uri", "unknown-client", "no-client"])
def test_logout_never_redirects_where_the_client_does_not_allow(blog, session, query):
    params = {"client_id": blog.client_id, **query}
    answer = session.get(blog.url("/logout", **{k: v for k, v in params.items() if v is not None}))
    assert answer.status_code == 400 and "location" not in answer.headers
    assert answer.headers["content-type"].startswith("text/html")
    # The session survives a refused logout.
    assert session.get(start_flow(blog).url).status_code == 302


# ---- 8. every bad input, as Cognito answers it ----------------------------------------------------


def authorize_query(blog: Pool, changes: dict) -> dict:
    query = {"client_id": blog.client_id, "response_type": "code", "redirect_uri": CALLBACK,
             "scope": "openid", "state": "the-state"}
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return query


FATAL = {  # the error page, never a redirect
    "no-client-id": ({"client_id": None}, "invalid_request"),
    "unknown-client-id": ({"client_id": "unknown"}, "invalid_request"),
    "client-without-oauth": ({"client_id": "NO_OAUTH"}, "invalid_request"),
    "no-redirect-uri": ({"redirect_uri": None}, "redirect_mismatch"),
    "unregistered-redirect-uri": ({"redirect_uri": "https://attacker.example/callback"},
                                  "redirect_mismatch"),
    "redirect-uri-trailing-slash": ({"redirect_uri": CALLBACK + "/"}, "redirect_mismatch"),
    "redirect-uri-other-port": ({"redirect_uri": "http://localhost:3001/callback"},
                                "redirect_mismatch"),
}


@pytest.mark.parametrize("path", ["/oauth2/authorize", "/login"])
@pytest.mark.parametrize("case", FATAL, ids=list(FATAL))
def test_a_bad_client_or_redirect_uri_gets_the_error_page_and_no_redirect(blog, session, case,
                                                                          path):
    changes, error = FATAL[case]
    if changes.get("client_id") == "NO_OAUTH":
        changes = {"client_id": blog.no_oauth_client}
    answer = session.get(blog.url(path, **authorize_query(blog, changes)))
    assert_error_page(answer, error)
    assert "code=" not in answer.text


REDIRECTED = {  # to the (valid) callback, with error= and the state
    "no-response-type": ({"response_type": None}, "invalid_request"),
    "response-type-token": ({"response_type": "token"}, "unauthorized_client"),
    "unknown-response-type": ({"response_type": "bogus"}, "unsupported_response_type"),
    "scope-not-allowed": ({"scope": f"openid {ADMIN_SCOPE}"}, "invalid_scope"),
    "unknown-scope": ({"scope": "openid made-up"}, "invalid_scope"),
    "email-without-openid": ({"scope": "email"}, "invalid_scope"),
    "profile-without-openid": ({"scope": "profile phone"}, "invalid_scope"),
    "challenge-without-method": ({"code_challenge": "x" * 43}, "invalid_request"),
    "challenge-method-plain": ({"code_challenge": "x" * 43, "code_challenge_method": "plain"},
                               "invalid_request"),
    "method-without-challenge": ({"code_challenge_method": "S256"}, "invalid_request"),
}


@pytest.mark.parametrize("case", list(REDIRECTED))
def test_other_bad_authorize_requests_go_back_to_the_callback_with_the_error(blog, session, case):
    changes, error = REDIRECTED[case]
    answer = session.get(blog.url("/oauth2/authorize", **authorize_query(blog, changes)))
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(CALLBACK + "?")
    query = query_of(location)
    assert "code" not in query
    assert (query["error"], query["state"]) == (error, "the-state")


# -- the token endpoint --


def test_a_code_is_good_once(blog, session):
    flow, code = fresh_code(blog, session)
    first = code_exchange(blog, flow, code)
    assert first.status_code == 200
    remember(*first.json().values())
    assert_json_error(code_exchange(blog, flow, code), 400, "invalid_grant")


def test_a_code_lives_five_minutes(blog, session, monkeypatch):
    clock = blog.ui.grants.clock
    for seconds, works in ((299, True), (301, False)):
        monkeypatch.setattr(blog.ui.grants, "clock", clock)
        flow, code = fresh_code(blog, session)
        monkeypatch.setattr(blog.ui.grants, "clock", lambda s=seconds: clock() + s)
        answer = code_exchange(blog, flow, code)
        if works:
            assert answer.status_code == 200, answer.text
            remember(*answer.json().values())
        else:
            assert_json_error(answer, 400, "invalid_grant")


TOKEN_ERRORS = {
    "wrong-verifier": ({"code_verifier": "w" * 48}, 400, "invalid_grant"),
    "no-verifier": ({"code_verifier": None}, 400, "invalid_request"),
    "other-redirect-uri": ({"redirect_uri": "http://localhost:3000/elsewhere"}, 400,
                           "invalid_grant"),
    "no-redirect-uri": ({"redirect_uri": None}, 400, "invalid_request"),
    "no-code": ({"code": None}, 400, "invalid_request"),
    "unknown-code": ({"code": "not-a-code"}, 400, "invalid_grant"),
    "another-clients-code": ({"client_id": "OTHER"}, 400, "invalid_grant"),
    "unknown-client": ({"client_id": "unknown"}, 400, "invalid_client"),
    "unsupported-grant-type": ({"grant_type": "password"}, 400, "unsupported_grant_type"),
}


@pytest.mark.parametrize("case", list(TOKEN_ERRORS))
def test_a_bad_code_exchange_gets_the_rfc_6749_error(blog, session, case):
    changes, status, error = TOKEN_ERRORS[case]
    if changes.get("client_id") == "OTHER":
        changes = {"client_id": blog.other_client}
    flow, code = fresh_code(blog, session)
    answer = code_exchange(blog, flow, code, **changes)
    assert_json_error(answer, status, error)
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "id_token" not in answer.text


def test_a_code_exchange_needs_a_form_post(blog, session):
    flow, code = fresh_code(blog, session)
    form = {"grant_type": "authorization_code", "code": code, "client_id": blog.client_id,
            "redirect_uri": CALLBACK, "code_verifier": flow.verifier}
    as_json = requests.post(blog.discovery["token_endpoint"], data=json.dumps(form),
                            headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    assert_json_error(as_json, 400, "invalid_request")
    got = requests.get(blog.discovery["token_endpoint"], params=form, timeout=TIMEOUT)
    assert got.status_code == 405 and "POST" in got.headers["allow"]
    assert "access_token" not in got.text
    # Neither spent the code.
    ok = code_exchange(blog, flow, code)
    assert ok.status_code == 200
    remember(*ok.json().values())


def test_a_client_with_a_secret_authenticates_by_basic_or_form_and_only_so(blog, session):
    client_id, secret = blog.confidential
    basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    wrong = "Basic " + base64.b64encode(f"{client_id}:{secret[:-1]}x".encode()).decode()
    cases = [({"Authorization": basic}, {}, 200), ({}, {"client_secret": secret}, 200),
             ({}, {}, 400), ({"Authorization": wrong}, {}, 400),
             ({}, {"client_secret": secret[:-1] + "x"}, 400)]
    for headers, fields, status in cases:
        flow, code = fresh_code(blog, session, client_id=client_id, scope="openid")
        form = {"grant_type": "authorization_code", "code": code, "client_id": client_id,
                "redirect_uri": CALLBACK, "code_verifier": flow.verifier, **fields}
        answer = post_form(blog.discovery["token_endpoint"], form, headers=headers)
        if status == 200:
            assert answer.status_code == 200, (headers, fields, answer.text)
            remember(*answer.json().values())
        else:
            assert_json_error(answer, 400, "invalid_client")


# -- the login form --


def login_page(blog: Pool, browser: Browser) -> requests.Response:
    page = browser.open(start_flow(blog).url, CALLBACK)
    assert page.status_code == 200 and urlsplit(page.url).path == "/login"
    return page


def has_session(blog: Pool, answer: requests.Response) -> bool:
    return any(c.startswith(f"{blog.ui.session_cookie}=") and not c.startswith(
        f"{blog.ui.session_cookie}=;") for c in answer.raw.headers.getlist("set-cookie"))


@pytest.mark.parametrize("csrf", [None, "", "forged-value"], ids=["absent", "empty", "wrong"])
def test_a_login_post_without_the_pages_csrf_token_is_refused(blog, csrf):
    browser = Browser()
    page = login_page(blog, browser)
    answer = browser.submit(page, "adminuser", blog.password("adminuser"), _csrf=csrf)
    assert_error_page(answer, "invalid_request")
    assert not has_session(blog, answer)


def test_a_login_post_from_another_browser_is_refused(blog):
    """The form's token without the page's cookie: a cross-site post."""
    page = login_page(blog, Browser())
    answer = Browser().submit(page, "adminuser", blog.password("adminuser"))
    assert_error_page(answer, "invalid_request")
    assert not has_session(blog, answer)


@pytest.mark.parametrize(("user", "password"), [
    ("adminuser", "Wrong-password-1"), ("adminuser", None), ("nobody", "Some-password-1")],
    ids=["wrong-password", "empty-password", "unknown-user"])
def test_a_refused_sign_in_stays_on_the_page_with_cognitos_message(blog, user, password):
    browser = Browser()
    page = login_page(blog, browser)
    answer = browser.submit(page, user, password or "")
    assert answer.status_code == 200 and "location" not in answer.headers
    assert read_page(answer.text).texts["loginErrorMessage"] == "Incorrect username or password."
    assert not has_session(blog, answer)
    assert read_page(answer.text).forms[0].fields.get("_csrf")  # the page, again, to retry
    # Nothing signed the browser in.
    assert login_page(blog, browser).status_code == 200


def test_a_disabled_user_is_told_so(blog):
    backend = blog.sandbox.cognito.backend
    password = "Disabled-User-1"
    backend.admin_create_user(blog.pool_id, "disableduser", "SUPPRESS", None, [])
    backend.admin_set_user_password(blog.pool_id, "disableduser", password, True)
    backend.admin_disable_user(blog.pool_id, "disableduser")
    remember(password)
    browser = Browser()
    answer = browser.submit(login_page(blog, browser), "disableduser", password)
    assert answer.status_code == 200 and "location" not in answer.headers
    assert read_page(answer.text).texts["loginErrorMessage"] == "User is disabled."
    assert not has_session(blog, answer)


# -- revocation --


def test_revocation_refuses_what_it_cannot_revoke(blog, session):
    signed_in = hosted_sign_in(blog, "adminuser", browser=session)
    for token in (signed_in.access_token, signed_in.id_token):
        assert_json_error(revoke(blog, token=token, client_id=blog.client_id), 400,
                          "unsupported_token_type")
    assert_json_error(revoke(blog, client_id=blog.client_id), 400, "invalid_request")
    assert_json_error(revoke(blog, token=signed_in.refresh_token, client_id="unknown"), 401,
                      "invalid_client")
    # None of that revoked anything.
    still = token_request(blog, grant_type="refresh_token", client_id=blog.client_id,
                          refresh_token=signed_in.refresh_token)
    assert still.status_code == 200
    remember(*still.json().values())


def test_a_client_with_revocation_off_cannot_revoke(blog):
    signed_in = hosted_sign_in(blog, "regularuser", scope="openid",
                               client_id=blog.no_revocation_client)
    answer = revoke(blog, token=signed_in.refresh_token, client_id=blog.no_revocation_client)
    assert_json_error(answer, 400, "invalid_request")
    still = token_request(blog, grant_type="refresh_token", client_id=blog.no_revocation_client,
                          refresh_token=signed_in.refresh_token)
    assert still.status_code == 200
    remember(*still.json().values())


# ---- 9. nothing secret in a log ------------------------------------------------------------------


def test_no_password_code_or_token_reaches_a_log(blog, capfd, caplog):
    """Everything this module handled, and one more round of every flow with the process's
    output captured and every logger at DEBUG: none of it in the sandbox's logs folder, on
    stdout or stderr, or in a log record."""
    caplog.set_level(logging.DEBUG)
    browser = Browser()
    page = login_page(blog, browser)
    browser.submit(page, "adminuser", "Not-the-password-1")
    remember("Not-the-password-1")
    signed_in = hosted_sign_in(blog, "adminuser", browser=browser)
    call(blog.outputs["route_urls"]["GET /AdminUser"], token=signed_in.id_token)
    userinfo(blog, signed_in.access_token)
    token_request(blog, grant_type="refresh_token", client_id=blog.client_id,
                  refresh_token=signed_in.refresh_token)
    revoke(blog, token=signed_in.refresh_token, client_id=blog.client_id)
    revoke(blog, token=signed_in.access_token, client_id=blog.client_id)
    code_exchange(blog, signed_in.flow, signed_in.callback["code"])  # spent: refused
    remember(*blog.outputs["test_user_passwords"].values(), signed_in.flow.verifier)
    time.sleep(0.2)  # the functions' log lines are written by their workers
    captured = capfd.readouterr()
    places = {"stdout": captured.out, "stderr": captured.err, "log records": caplog.text}
    files = [p for p in blog.sandbox.logs_dir.rglob("*") if p.is_file()]
    assert files  # the access log and the functions' logs
    places |= {str(p): p.read_text(errors="replace") for p in files}
    secrets = {s for s in USED if len(s) >= 8}
    assert {signed_in.id_token, signed_in.access_token, signed_in.refresh_token,
            signed_in.callback["code"], blog.password("adminuser")} <= secrets
    leaks = {(place, secret[:12] + "...") for place, text in places.items()
             for secret in secrets if secret in text}
    assert not leaks


# ---- userInfo's attributes, by scope (pure) -----------------------------------------------------

ATTRIBUTES = {"sub": "s-1", "email": "a@example.com", "email_verified": "true",
              "phone_number": "+15550100", "phone_number_verified": "false",
              "name": "Ada", "custom:team": "blue"}


@pytest.mark.parametrize(("scope", "readable", "shown"), [
    ("openid", (), set(ATTRIBUTES) - {"sub"}),  # openid alone: every readable attribute
    ("openid email", (), {"email", "email_verified"}),
    ("openid phone", (), {"phone_number", "phone_number_verified"}),
    ("openid profile", (), {"name", "custom:team"}),
    ("openid", ("email", "name"), {"email", "name"}),  # only what the client may read
    ("openid profile email", ("email",), {"email"}),
])
def test_user_info_answers_the_attributes_the_scopes_open(scope, readable, shown):
    answer = user_info({"scope": scope, "sub": "s-1", "username": "ada"}, ATTRIBUTES, readable)
    assert set(answer) == {"sub", "username", *shown}
    assert answer["sub"] == "s-1" and answer["username"] == "ada"
    if "email_verified" in answer:
        assert answer["email_verified"] is True  # Cognito answers booleans, not "true"
    if "phone_number_verified" in answer:
        assert answer["phone_number_verified"] is False
