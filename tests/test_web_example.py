"""examples/web in a real browser: headless Chromium (Playwright) signs in through the sandbox's
hosted UI with the code grant and PKCE, and reads what the app shows for each route.

Skipped without Playwright or ``/usr/bin/chromium``, except where ``REQUIRE_BROWSER`` is set
(``.ci/run`` sets it, after installing Chromium): there that is a failure, because CI must prove
the browser path. Never Playwright's own browsers (``playwright install``
downloads them); the Debian package's Chromium, with the flags it needs on this machine."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from fixtures.stacks import NS, ROOT, blog_config
from sandbox_harness import call, started

WEB = ROOT / "examples" / "web"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 10_000
ROUTES = ("GET /AdminUser", "GET /RegularUser")
MISSING_HEADER = "the Authorization header is missing"
REQUIRE_BROWSER = "REQUIRE_BROWSER"
WRONG_PASSWORD = "not-the-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def sync_playwright():
    """Playwright's ``sync_playwright``, or a skip saying what is missing (a failure with
    ``REQUIRE_BROWSER`` set)."""
    problem = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        problem = f"Playwright for Python is not installed ({error}): pip install 'playwright>=1.45'"
    else:
        if not CHROMIUM.is_file():
            problem = f"{CHROMIUM} is missing: apt-get install chromium"
    if problem is not None:
        if os.environ.get(REQUIRE_BROWSER):
            pytest.fail(f"{problem}; {REQUIRE_BROWSER} is set, so the browser tests may not skip")
        pytest.skip(problem)
    return sync_playwright


@pytest.fixture(scope="module")
def browser(sync_playwright, sandbox):
    """Headless Chromium. Started after the sandbox so that it stops first: while Playwright's
    sync API is open, this thread has a running event loop, and ``Sandbox.stop`` fails in one."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """The blog's stack with its callback, CORS origin and a sign-out URL on a free localhost
    port, and the app served there."""
    port = free_port()
    config = blog_config()
    config[f"{NS}:callbackUrls"] = [f"http://localhost:{port}/callback"]
    config[f"{NS}:corsOrigins"] = [f"http://localhost:{port}"]
    config[f"{NS}:logoutUrls"] = [f"http://localhost:{port}/"]
    with started(config, tmp_path_factory.mktemp("web"), web=WEB) as sandbox:
        yield sandbox


@pytest.fixture
def page(browser, sandbox):
    """A fresh browser context (no cookies, no storage) on the app; fails the test on a page
    error or a console error (a CSP violation shows as one) other than a refused request."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(f"console: {message.text}")
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None)
    yield page
    context.close()
    assert problems == []


def without_logout_uri(page) -> None:
    """Serve the app's config.json as for a stack without sign-out URLs (the blog's own:
    ``logoutUri`` null); the hosted UI is the same."""
    def patch(route) -> None:
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), "logoutUri": None})

    page.route("**/config.json", patch)


def state(page, expected: str) -> None:
    """Wait for the app's ``data-state`` to be ``expected``; an error it shows instead fails
    the test at once, with its message."""
    page.wait_for_selector(f'body[data-state="{expected}"], body[data-state="error"]',
                           state="attached")
    shown = page.get_attribute("body", "data-state")
    if shown != expected:
        pytest.fail(f"the app shows an error instead of {expected!r}: "
                    f"{page.text_content('#error')}")


def sign_in(page, sandbox, user: str, password: str | None = None) -> None:
    """From the signed-out app: Sign in, then the hosted UI's form."""
    state(page, "signed-out")
    page.click("#sign-in")
    page.wait_for_url("**/login?**")
    page.fill("#signInFormUsername", user)
    page.fill("#signInFormPassword",
              password or sandbox.outputs["test_user_passwords"][user])
    page.click('input[name="signInSubmitButton"]')


def table(page) -> dict[str, tuple[str, str, str]]:
    """route -> (with your token, without a token, reason), as the page shows them."""
    return {row.get_attribute("data-route"): (row.locator(".with-token").text_content(),
                                              row.locator(".without-token").text_content(),
                                              row.locator(".reason").text_content())
            for row in page.locator("#routes tbody tr").all()}


def oauth_requests(page) -> dict[str, list[str]]:
    """What the page sends from now on: authorization requests' URLs ("authorize") and token
    requests' bodies ("token")."""
    seen: dict[str, list[str]] = {"authorize": [], "token": []}

    def record(request) -> None:
        if urlsplit(request.url).path == "/oauth2/authorize":
            seen["authorize"].append(request.url)
        elif urlsplit(request.url).path == "/oauth2/token":
            seen["token"].append(request.post_data)

    page.on("request", record)
    return seen


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_adminuser_then_regularuser_see_their_own_access(page, sandbox):
    """As for the blog's stack (no sign-out URL): signing out forgets the tokens and revokes
    the refresh token; the hosted UI's session lives on, so the next sign-in asks for the
    password again."""
    without_logout_uri(page)
    sent = oauth_requests(page)
    page.goto(sandbox.web_url)
    sign_in(page, sandbox, "adminuser")
    state(page, "done")
    assert page.text_content("#username") == "adminuser"
    assert json.loads(page.get_attribute("#groups", "data-groups")) == ["admin", "regular"]
    assert table(page) == {route: ("200", "401", MISSING_HEADER) for route in ROUTES}
    # Back on the app with the code gone from the address bar and the history.
    assert page.url == sandbox.web_url + "callback"

    # The code grant with PKCE S256: the verifier sent to the token endpoint hashes to the
    # challenge sent to the authorization endpoint.
    (authorize,) = [parse_qs(urlsplit(url).query) for url in sent["authorize"]]
    assert {k: v for k, v in authorize.items()
            if k not in ("state", "nonce", "code_challenge")} == {
        "response_type": ["code"], "client_id": [sandbox.outputs["app_client_id"]],
        "redirect_uri": [sandbox.web_url + "callback"],
        "scope": ["phone email openid profile"], "code_challenge_method": ["S256"]}
    (exchange,) = [parse_qs(body) for body in sent["token"]]
    assert exchange["grant_type"] == ["authorization_code"]
    verifier = exchange["code_verifier"][0]
    assert 43 <= len(verifier) <= 128
    assert authorize["code_challenge"] == [s256(verifier)]

    # Tokens in sessionStorage only.
    stored = json.loads(page.evaluate("sessionStorage.getItem('jwt-scoped.tokens')"))
    assert page.evaluate("localStorage.length") == 0
    refresh_token = stored["refresh_token"]

    # Sign out: the refresh token is revoked.
    with page.expect_response("**/oauth2/revoke") as revoked:
        page.click("#sign-out")
    assert revoked.value.status == 200
    state(page, "signed-out")
    assert page.evaluate("sessionStorage.getItem('jwt-scoped.tokens')") is None
    token_endpoint = urlsplit(sent["authorize"][0])._replace(path="/oauth2/token",
                                                             query="").geturl()
    refreshed = call(token_endpoint, "POST",
                     headers={"Content-Type": "application/x-www-form-urlencoded"},
                     body=f"grant_type=refresh_token&client_id={sandbox.outputs['app_client_id']}"
                          f"&refresh_token={refresh_token}".encode())
    assert refreshed.status == 400, refreshed.body

    # The hosted UI still has adminuser's session: the app asks for the password again
    # (prompt=login) rather than coming straight back as adminuser.
    sign_in(page, sandbox, "regularuser")
    state(page, "done")
    assert parse_qs(urlsplit(sent["authorize"][-1]).query)["prompt"] == ["login"]
    assert page.text_content("#username") == "regularuser"
    assert json.loads(page.get_attribute("#groups", "data-groups")) == ["regular"]
    assert table(page) == {"GET /AdminUser": ("403", "401", MISSING_HEADER),
                           "GET /RegularUser": ("200", "401", MISSING_HEADER)}


def test_signing_out_at_the_hosted_ui_ends_its_session(page, sandbox):
    """A stack with a sign-out URL: Sign out goes through the hosted UI's /logout, which ends
    its session and comes back to the app; the next sign-in shows the form."""
    sent = oauth_requests(page)
    page.goto(sandbox.web_url)
    sign_in(page, sandbox, "adminuser")
    state(page, "done")
    with page.expect_request("**/logout?**") as logout:
        page.click("#sign-out")
    assert parse_qs(urlsplit(logout.value.url).query) == {
        "client_id": [sandbox.outputs["app_client_id"]], "logout_uri": [sandbox.web_url]}
    state(page, "signed-out")
    assert page.url == sandbox.web_url
    assert page.evaluate("sessionStorage.getItem('jwt-scoped.tokens')") is None

    sign_in(page, sandbox, "regularuser")  # the form again, without prompt=login
    state(page, "done")
    assert "prompt" not in parse_qs(urlsplit(sent["authorize"][-1]).query)
    assert page.text_content("#username") == "regularuser"
    assert table(page)["GET /AdminUser"][0] == "403"


def test_a_wrong_password_stays_on_the_hosted_ui(page, sandbox):
    page.goto(sandbox.web_url)
    sign_in(page, sandbox, "adminuser", password=WRONG_PASSWORD)
    page.wait_for_selector("#loginErrorMessage")
    assert page.text_content("#loginErrorMessage") == "Incorrect username or password."
    assert urlsplit(page.url).path == "/login"


def test_an_error_or_a_foreign_state_at_the_callback_is_shown(page, sandbox):
    page.goto(sandbox.web_url + "callback?error=access_denied&error_description=Denied+here")
    state(page, "error")
    assert page.text_content("#error") == "Sign-in failed: access_denied (Denied here)"
    assert page.is_visible("#sign-in")
    assert urlsplit(page.url).query == ""

    page.goto(sandbox.web_url + "callback?code=stolen&state=not-mine")
    state(page, "error")
    assert "state is not the one this tab sent" in page.text_content("#error")
    assert page.evaluate("sessionStorage.getItem('jwt-scoped.tokens')") is None


def test_an_answer_the_browser_cannot_read_is_explained(page, sandbox):
    """As when the API's CORS does not allow the app's origin: fetch() fails, the page says
    what to check."""
    api = urlsplit(sandbox.api_url)
    page.route(f"http://{api.netloc}/**", lambda route: route.abort())
    page.goto(sandbox.web_url)
    sign_in(page, sandbox, "adminuser")
    state(page, "done")
    assert table(page) == {route: ("failed", "failed", "no answer the browser may read")
                           for route in ROUTES}
    assert "could not read 4 answer(s) of the API" in page.text_content("#error")
    assert "corsOrigins" in page.text_content("#error")
