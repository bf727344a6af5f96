"""A browser and an OAuth client for the sandbox's hosted UI, written only from what Cognito
documents and what a browser does: requests.Session carries the cookies and never follows a
redirect by itself, an HTML parser reads the login page's form, and authlib (an OAuth 2.0 /
OpenID Connect client nobody on this project wrote) builds the authorization URL with PKCE and
exchanges the code. Nothing here imports the sandbox or the project's own code-flow client, so
the two sides check each other."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

TIMEOUT = 10


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str]


class _Page(HTMLParser):
    """The forms of a page, and the text of the element with id ``loginErrorMessage`` and of
    the error page's ``errorCode``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.texts: dict[str, str] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(attributes.get("action", ""),
                                   attributes.get("method", "get").lower(), {}))
        elif tag == "input" and self.forms and attributes.get("name") and \
                attributes.get("type", "text").lower() != "submit":
            self.forms[-1].fields[attributes["name"]] = attributes.get("value", "")
        if tag not in ("input", "meta", "br", "img", "link"):
            self._open.append(attributes.get("id"))

    def handle_endtag(self, tag):
        if self._open and tag not in ("input", "meta", "br", "img", "link"):
            self._open.pop()

    def handle_data(self, data):
        for element_id in self._open:
            if element_id:
                self.texts[element_id] = self.texts.get(element_id, "") + data


def read_page(html: str) -> _Page:
    parser = _Page()
    parser.feed(html)
    return parser


def query_of(url: str) -> dict[str, str]:
    """The query of ``url``, one value per name (a name twice would be a bug: refuse it)."""
    parsed = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert all(len(v) == 1 for v in parsed.values()), url
    return {k: v[0] for k, v in parsed.items()}


@dataclass
class Browser:
    """One browser: its cookies, and every response it saw (to check what leaked where)."""

    session: requests.Session = field(default_factory=requests.Session)
    seen: list[requests.Response] = field(default_factory=list)

    def get(self, url: str, **kwargs) -> requests.Response:
        answer = self.session.get(url, allow_redirects=False, timeout=TIMEOUT, **kwargs)
        self.seen.append(answer)
        return answer

    def post(self, url: str, **kwargs) -> requests.Response:
        answer = self.session.post(url, allow_redirects=False, timeout=TIMEOUT, **kwargs)
        self.seen.append(answer)
        return answer

    def open(self, url: str, stop_at: str) -> requests.Response:
        """GET ``url`` and follow redirects the way a browser does, until a page, or until a
        redirect to ``stop_at`` (the callback: never fetched). The last response."""
        answer = self.get(url)
        for _ in range(5):
            location = answer.headers.get("location")
            if answer.status_code not in (301, 302, 303) or location is None or \
                    location.startswith(stop_at):
                return answer
            answer = self.get(urljoin(answer.url, location))
        raise AssertionError(f"too many redirects from {url}")

    def submit(self, page: requests.Response, username: str, password: str,
               **overrides: str | None) -> requests.Response:
        """Fill the login page's form and post it (``overrides``: field -> value, ``None``
        leaves the field out)."""
        (form,) = read_page(page.text).forms
        assert form.method == "post"
        fields = {**form.fields, "username": username, "password": password}
        for name, value in overrides.items():
            if value is None:
                fields.pop(name, None)
            else:
                fields[name] = value
        return self.post(urljoin(page.url, form.action), data=fields)


@dataclass
class CodeFlow:
    """One authorization request built by authlib: PKCE S256, a state and a nonce."""

    oauth: OAuth2Session
    url: str
    state: str
    verifier: str
    nonce: str
    redirect_uri: str

    def exchange(self, token_endpoint: str, callback: str) -> dict:
        """authlib's token request for the code in ``callback`` (it checks the state)."""
        return dict(self.oauth.fetch_token(token_endpoint, authorization_response=callback,
                                           code_verifier=self.verifier, timeout=TIMEOUT))


def code_flow(authorize_endpoint: str, client_id: str, redirect_uri: str, scope: str,
              **extra: str) -> CodeFlow:
    oauth = OAuth2Session(client_id, scope=scope, redirect_uri=redirect_uri,
                          code_challenge_method="S256")
    verifier = generate_token(48)
    nonce = extra.pop("nonce", None) or secrets.token_urlsafe(16)
    url, state = oauth.create_authorization_url(authorize_endpoint, code_verifier=verifier,
                                                nonce=nonce, **extra)
    return CodeFlow(oauth, url, state, verifier, nonce, redirect_uri)
