"""What signing in costs in the sandbox, each way, against ``Pulumi.machines.yaml`` (a web client
with the hosted UI, machine clients, access-token scopes). ``figures()`` is one run; every cost
is the median of ``rounds`` sign-ins, and each is also given as a ratio of the password sign-in
(``InitiateAuth`` with ``USER_PASSWORD_AUTH``) measured in the same run, which absorbs machine
speed:

- **password**: one ``InitiateAuth`` request (the trigger runs);
- **browser**: the whole browser sign-in: ``/oauth2/authorize`` (302), ``/login`` (the page),
  the form posted (302 with the code; the trigger runs), the code exchanged at
  ``/oauth2/token`` with PKCE;
- **client credentials**: one ``/oauth2/token`` request with a machine client's secret;
- **first call**: the first authorized API call with a fresh token (its signature is checked
  then), against the calls after it with the same token.

All requests go through the same HTTP client (``requests``, one keep-alive session per kind), to
a sandbox in this process. ``python -m benchmarks.signin`` prints one run.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

STACK = "machines"
USER = "adminuser"
MACHINE = "partner"
ROUTE = "GET /AdminUser"
TARGET = "AWSCognitoIdentityProviderService.InitiateAuth"  # the Cognito API's JSON protocol
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
ACTION = re.compile(r'action="([^"]+)"')


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


class SignIns:
    """The sandbox's sign-in paths, each one request sequence."""

    def __init__(self, sandbox):
        import requests

        outputs = sandbox.outputs
        self.outputs = outputs
        pool = outputs["sandbox"]["user_pools"][outputs["user_pool_id"]]
        self.hosted_ui = next(iter(pool["domains"].values()))
        self.cognito = outputs["sandbox"]["cognito_endpoint"]
        self.client_id = outputs["app_client_id"]
        self.password = outputs["test_user_passwords"][USER]
        self.redirect_uri = sandbox.model.pools[0].user_clients[0].callback_urls[0]
        self.api = requests.Session()
        self.cognito_session = requests.Session()
        self.token_session = requests.Session()

    def password_sign_in(self) -> str:
        answer = self.cognito_session.post(self.cognito, timeout=10, data=json.dumps({
            "ClientId": self.client_id, "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": USER, "PASSWORD": self.password}}),
            headers={"X-Amz-Target": TARGET, "Content-Type": "application/x-amz-json-1.1"})
        answer.raise_for_status()
        return answer.json()["AuthenticationResult"]["AccessToken"]

    def browser_sign_in(self) -> str:
        import requests

        browser = requests.Session()  # a fresh browser: no session cookie yet
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()) \
            .decode().rstrip("=")
        query = urlencode({"response_type": "code", "client_id": self.client_id,
                           "redirect_uri": self.redirect_uri, "scope": "openid email",
                           "state": "s", "code_challenge": challenge,
                           "code_challenge_method": "S256"})
        login = browser.get(f"{self.hosted_ui}/oauth2/authorize?{query}", allow_redirects=False,
                            timeout=10).headers["location"]
        page = browser.get(self.hosted_ui + login, timeout=10).text
        action = ACTION.search(page).group(1).replace("&amp;", "&")
        done = browser.post(self.hosted_ui + action, allow_redirects=False, timeout=10, data={
            "_csrf": CSRF.search(page).group(1), "username": USER, "password": self.password})
        code = parse_qs(urlsplit(done.headers["location"]).query)["code"][0]
        tokens = browser.post(f"{self.hosted_ui}/oauth2/token", timeout=10, data={
            "grant_type": "authorization_code", "client_id": self.client_id, "code": code,
            "redirect_uri": self.redirect_uri, "code_verifier": verifier})
        tokens.raise_for_status()
        return tokens.json()["access_token"]

    def client_credentials(self) -> str:
        answer = self.token_session.post(
            f"{self.hosted_ui}/oauth2/token", timeout=10, data={"grant_type": "client_credentials"},
            auth=(self.outputs["machine_client_ids"][MACHINE],
                  self.outputs["machine_client_secrets"][MACHINE]))
        answer.raise_for_status()
        return answer.json()["access_token"]

    def call(self, token: str) -> int:
        return self.api.get(self.outputs["route_urls"][ROUTE], headers={"Authorization": token},
                            timeout=10).status_code


def _median_ms(function, rounds: int) -> tuple[float, list]:
    times, results = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        results.append(function())
        times.append(_ms(start))
    return statistics.median(times), results


def figures(rounds: int = 40) -> dict[str, float]:
    """One run: each cost the median of ``rounds`` sign-ins (after a few discarded)."""
    from jwt_scoped.access.plan import Stack
    from jwt_scoped.project import Project
    from jwt_scoped.sandbox.app import Sandbox

    root = Path(__file__).resolve().parents[1]
    project = Project.load(root)
    stack = Stack(project, root / f"Pulumi.{STACK}.yaml", STACK)
    # The stage's throttle raised to the account quota, as benchmarks/sandbox.py does: the
    # calls measure the gateway, not the throttle.
    config = {**stack.config(), "jwt-scoped-api:throttlingBurstLimit": 5000,
              "jwt-scoped-api:throttlingRateLimit": 10000}
    with tempfile.TemporaryDirectory() as folder, \
            Sandbox(stack, config=config, port=0, run_root=Path(folder)) as sandbox:
        paths = SignIns(sandbox)
        for _ in range(5):  # warm every path: workers, connections, caches
            paths.password_sign_in(), paths.browser_sign_in(), paths.client_credentials()
        password, _ = _median_ms(paths.password_sign_in, rounds)
        browser, tokens = _median_ms(paths.browser_sign_in, rounds)
        machine, _ = _median_ms(paths.client_credentials, rounds)
        first, later = [], []
        for token in tokens:  # fresh tokens, not yet seen by the gateway
            start = time.perf_counter()
            assert paths.call(token) == 200
            first.append(_ms(start))
            for _ in range(3):
                start = time.perf_counter()
                paths.call(token)
                later.append(_ms(start))
    first_ms, later_ms = statistics.median(first), statistics.median(later)
    return {"password_ms": password, "browser_ms": browser,
            "browser_vs_password": browser / password, "client_credentials_ms": machine,
            "client_credentials_vs_password": machine / password,
            "first_call_ms": first_ms, "later_call_ms": later_ms,
            "first_call_vs_later": first_ms / later_ms}


if __name__ == "__main__":
    print(json.dumps(figures(), indent=2))
