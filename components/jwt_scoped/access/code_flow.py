"""Sign a test user in the way a browser does: the hosted UI's code grant with PKCE.

What a browser would do, without one: open the authorize endpoint, follow it to the login page,
fill in its form (the fields of the form that has a password field, its hidden ones included:
the classic hosted UI's ``_csrf``) and submit it, then take the ``code`` from the redirect to the
callback URL, which is never fetched. authlib (a well-kept OAuth 2.0 and OpenID Connect client)
builds the authorization URL with PKCE (``S256``) and exchanges the code; requests carries the
cookies between the pages. The ``state`` that comes back must be the one sent and the ID token's
``nonce`` the one asked for, or the sign-in fails.

Against AWS this drives the classic hosted UI of the pool's domain (the one a
``aws.cognito.UserPoolDomain`` without ``managed_login_version`` gets); the newer managed login
pages are a JavaScript application a script cannot fill in.

A machine client gets its token from the same domain's token endpoint with the client
credentials grant (``client_credentials``): its id and secret in HTTP Basic, no user, no
browser. Its secret is never put in a message.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

from jwt_scoped import cognito_urls

from .signin import SignInError

LOGIN_ERROR_ID = "loginErrorMessage"  # the classic hosted UI's element for a refused sign-in


@dataclass(frozen=True)
class LoginForm:
    action: str
    fields: dict[str, str]
    """Every named input with its value (hidden fields as the page filled them)."""
    username_field: str
    password_field: str


class _FormParser(HTMLParser):
    """The first form holding a password field, and the text of the login error element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._error_depth = 0
        self.error_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = {"action": attributes.get("action", ""), "inputs": []}
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and attributes.get("name"):
            self._form["inputs"].append(attributes)
        if attributes.get("id") == LOGIN_ERROR_ID:
            self._error_depth = 1
        elif self._error_depth:
            self._error_depth += 1

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        if self._error_depth:
            self._error_depth -= 1

    def handle_data(self, data):
        if self._error_depth:
            self.error_text.append(data)


def login_form(page: str, page_url: str) -> LoginForm | None:
    """The sign-in form of a login page, or ``None``."""
    parser = _FormParser()
    parser.feed(page)
    for form in parser.forms:
        inputs = form["inputs"]
        password = next((i["name"] for i in inputs if i.get("type", "").lower() == "password"),
                        None)
        if password is None:
            continue
        username = next((i["name"] for i in inputs if i["name"] == "username"), None) or next(
            (i["name"] for i in inputs if i.get("type", "text").lower() in ("text", "email")),
            None)
        if username is None:
            continue
        fields = {i["name"]: i.get("value", "") for i in inputs
                  if i.get("type", "text").lower() not in ("submit", "button", "checkbox")}
        return LoginForm(urljoin(page_url, form["action"]), fields, username, password)
    return None


def login_error(page: str) -> str | None:
    """The message a login page shows for a refused sign-in, or ``None``."""
    parser = _FormParser()
    parser.feed(page)
    text = " ".join("".join(parser.error_text).split())
    return text or None


def sign_in(domain_base: str, client_id: str, redirect_uri: str, scopes: Sequence[str],
            username: str, password: str, timeout: float = 10.0) -> dict[str, str]:
    """The token endpoint's answer (``id_token``, ``access_token``, ...) for ``username``
    signing in through the hosted UI at ``domain_base``. Raises ``SignInError``."""
    import requests
    from authlib.common.security import generate_token
    from authlib.integrations.base_client import OAuthError
    from authlib.integrations.requests_client import OAuth2Session

    browser = requests.Session()
    oauth = OAuth2Session(client_id, scope=" ".join(scopes), redirect_uri=redirect_uri,
                          code_challenge_method="S256")
    verifier, nonce = generate_token(64), secrets.token_urlsafe(16)
    url, state = oauth.create_authorization_url(domain_base + cognito_urls.AUTHORIZE_PATH,
                                                code_verifier=verifier, nonce=nonce)
    try:
        callback = _follow_to_callback(browser, url, redirect_uri, username, password, timeout)
        query = parse_qs(urlsplit(callback).query)
        if "error" in query:
            raise SignInError(f"cannot sign in {username!r} through the hosted UI: it sent "
                              f"error={query['error'][0]} to the callback")
        if query.get("state") != [state]:
            raise SignInError(f"the hosted UI answered {username!r}'s sign-in with another "
                              "state: refusing its code")
        token = oauth.fetch_token(domain_base + cognito_urls.TOKEN_PATH,
                                  authorization_response=callback, code_verifier=verifier,
                                  timeout=timeout)
    except requests.HTTPError as error:  # the token endpoint's own error answer
        raise SignInError(f"the token endpoint refused {username!r}'s code: "
                          f"{error.response.status_code} {error.response.text[:200]}") from None
    except OAuthError as error:
        raise SignInError(f"the token endpoint refused {username!r}'s code: {error}") from None
    except requests.RequestException as error:
        raise SignInError(f"cannot reach the hosted UI at {domain_base} to sign in "
                          f"{username!r}: {error}") from None
    if "openid" in scopes and _nonce_of(token.get("id_token")) != nonce:
        raise SignInError(f"the ID token of {username!r} does not carry the nonce asked for")
    return dict(token)


def _follow_to_callback(browser, url: str, redirect_uri: str, username: str, password: str,
                        timeout: float) -> str:
    """Follow redirects and fill the login form until the hosted UI redirects to the callback
    (which is not fetched); the callback URL with its query."""
    form_data: dict[str, str] | None = None  # the filled form, to post to ``url`` next
    submitted = False
    for _ in range(10):
        if form_data is None:
            answer = browser.get(url, allow_redirects=False, timeout=timeout)
        else:
            answer = browser.post(url, data=form_data, allow_redirects=False, timeout=timeout)
            form_data, submitted = None, True
        if answer.is_redirect:
            location = urljoin(answer.url, answer.headers["location"])
            if location.split("?")[0] == redirect_uri:
                return location
            url = location
            continue
        if answer.status_code != 200:
            raise SignInError(f"cannot sign in {username!r}: the hosted UI answered "
                              f"{answer.status_code} at {answer.url.split('?')[0]}")
        if submitted:
            message = login_error(answer.text) or "the login page came back"
            raise SignInError(f"cannot sign in {username!r} through the hosted UI: {message}")
        form = login_form(answer.text, answer.url)
        if form is None:
            raise SignInError(f"the page at {answer.url.split('?')[0]} has no sign-in form "
                              "(managed login pages need a browser)")
        url = form.action
        form_data = {**form.fields, form.username_field: username, form.password_field: password}
    raise SignInError(f"cannot sign in {username!r}: the hosted UI redirected too often")


def _nonce_of(id_token: object) -> object:
    """The ``nonce`` claim of an ID token (its signature is the API's to check)."""
    if not isinstance(id_token, str) or id_token.count(".") != 2:
        return None
    payload = id_token.split(".")[1]
    try:
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get("nonce")
    except ValueError:
        return None


REDACTED = "***"


def redacted(text: str, *secrets: str | None) -> str:
    """``text`` with every one of ``secrets`` in it replaced: no message carries a secret."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def client_credentials(token_url: str, client_id: str, client_secret: str, caller: str,
                       timeout: float = 10.0) -> str:
    """The access token of the client credentials grant for the confidential client
    ``client_id`` (``caller`` names it in messages), authenticated with HTTP Basic and asking for
    no ``scope``: the token holds every scope the client may request (Cognito's token endpoint).
    Raises ``SignInError``; no message holds the secret."""
    import requests
    from authlib.integrations.base_client import OAuthError
    from authlib.integrations.requests_client import OAuth2Session

    from jwt_scoped.modes import CLIENT_CREDENTIALS

    session = OAuth2Session(client_id, client_secret,
                            token_endpoint_auth_method="client_secret_basic")  # noqa: S106
    refused = f"the token endpoint {token_url} refused the client credentials of {caller}"
    try:
        token = session.fetch_token(token_url, grant_type=CLIENT_CREDENTIALS, timeout=timeout)
    except OAuthError as error:
        why = f"{error.error}" + (f" ({error.description})" if error.description else "")
        raise SignInError(redacted(f"{refused}: {why}", client_secret)) from None
    except requests.HTTPError as error:  # an answer that is no OAuth 2.0 one
        raise SignInError(f"{refused}: it answered {error.response.status_code} without an "
                          "OAuth 2.0 error") from None
    except requests.RequestException as error:
        raise SignInError(redacted(f"cannot reach the token endpoint {token_url} for {caller}: "
                                   f"{error}", client_secret)) from None
    except (TypeError, ValueError):  # a 2xx whose body is no JSON object
        raise SignInError(f"the token endpoint {token_url} answered {caller}'s client "
                          "credentials with no token") from None
    access_token = token.get("access_token") if isinstance(token, dict) else None
    if not isinstance(access_token, str) or not access_token:
        raise SignInError(f"the token endpoint {token_url} answered {caller}'s client "
                          "credentials without an access_token")
    return access_token
