"""The hosted UI of one local user pool domain: Cognito's user pool endpoints on 127.0.0.1.

Each ``aws.cognito.UserPoolDomain`` the program registers gets its own port, serving what
``https://<prefix>.auth.<region>.amazoncognito.com`` serves (Cognito developer guide, the pages
"The redirect and authorization endpoint", "Login endpoint", "The token issuer endpoint", "The
user attributes endpoint", "The token revocation endpoint" and "The logout endpoint"):

- ``GET /oauth2/authorize``: checks the request (``sandbox/oauth.py``: client, redirect URI,
  response type, scopes, PKCE). A wrong or missing ``client_id`` or ``redirect_uri`` gets the error
  page, never a redirect; other errors redirect to the callback with ``error=``. A browser with a
  signed-in session (the ``cognito`` cookie, one hour) goes straight back to the callback with a
  code; others go to the login page with the same parameters.
- ``GET /login`` shows a plain HTML form (fields ``username``, ``password`` and the anti-forgery
  ``_csrf``, which must equal the ``XSRF-TOKEN`` cookie the page sets, as the classic hosted UI
  does); ``POST /login`` checks the password in the user store and, on success, redirects to the
  callback with ``code`` and ``state``. A wrong password, an unknown or a disabled user stay on the
  page with Cognito's message.
- ``POST /oauth2/token`` (the code grant with PKCE, refresh tokens), ``GET|POST /oauth2/userInfo``,
  ``POST /oauth2/revoke``: JSON answers with ``Access-Control-Allow-Origin: *``, as Cognito's
  token endpoint sends it ("The token issuer endpoint": no custom CORS policy), so a single-page
  app on any origin can call them.
- ``GET /logout`` ends the session and redirects only to one of the client's sign-out URLs.

Nothing here logs a request: no password, code or token reaches a log. Handlers run in a worker
thread (they call the user store and the trigger); the edge's event loop only reads and writes.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import json
import logging
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl

from oauthlib.common import add_params_to_uri
from oauthlib.oauth2.rfc6749 import errors

from jwt_scoped import cognito_urls as paths

from . import moto_hook, oauth
from .cognito import LocalCognito, SignInRefused
from .payload import HttpAnswer

# Managed login keeps a browser signed in for one hour ("Managed login": "the session cookie ...
# expires after one hour").
SESSION_SECONDS = 3600
CSRF_FIELD, CSRF_COOKIE = "_csrf", "XSRF-TOKEN"
MAX_BODY_BYTES = 64 * 1024  # a form or a token request; nothing larger is meaningful here
FORM = "application/x-www-form-urlencoded"
JSON = "application/json;charset=UTF-8"
# What a preflight to the JSON endpoints may ask for.
CORS_HEADERS = [("access-control-allow-origin", "*")]
PREFLIGHT = [*CORS_HEADERS, ("access-control-allow-methods", "GET,POST,OPTIONS"),
             ("access-control-allow-headers", "authorization,content-type"),
             ("access-control-max-age", "3600")]
# Pages: never cached, never framed, no referrer carrying the query (code, state) anywhere.
PAGE_HEADERS = [("content-type", "text/html;charset=UTF-8"), ("cache-control", "no-store"),
                ("x-frame-options", "DENY"), ("referrer-policy", "no-referrer"),
                ("content-security-policy",
                 "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")]
# Scopes -> the user attributes userInfo answers with ("The user attributes endpoint"): openid
# alone gives every attribute the client may read.
PROFILE_ATTRIBUTES = frozenset({"name", "family_name", "given_name", "middle_name", "nickname",
                                "preferred_username", "profile", "picture", "website", "gender",
                                "birthdate", "zoneinfo", "locale", "updated_at"})
SCOPE_ATTRIBUTES = {"email": frozenset({"email", "email_verified"}),
                    "phone": frozenset({"phone_number", "phone_number_verified"})}


@dataclass(frozen=True)
class Session:
    username: str
    expires_at: float
    signed_in_at: int
    """When the user gave the password: the ``auth_time`` of every token the session gets."""


def cookies_of(headers: Mapping[str, str]) -> dict[str, str]:
    """The request's cookies (a malformed ``Cookie`` header: none)."""
    jar = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def set_cookie(name: str, value: str, max_age: int) -> tuple[str, str]:
    return ("set-cookie", f"{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax")


def page(title: str, body: str, status: int = 200,
         headers: list[tuple[str, str]] | None = None) -> HttpAnswer:
    text = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
            f"{html.escape(title)}</title><style>body{{font-family:sans-serif;max-width:24rem;"
            f"margin:3rem auto}} .error{{color:#b00}} label,input{{display:block;width:100%;"
            f"margin:.3rem 0}}</style></head><body>{body}</body></html>")
    return HttpAnswer(status, [*PAGE_HEADERS, *(headers or [])], text.encode("utf-8"))


def error_page(error: str, description: str | None = None) -> HttpAnswer:
    """Cognito's page for a request it will not redirect anywhere."""
    detail = f"<p>{html.escape(description)}</p>" if description else ""
    return page("Error", "<h1>An error was encountered with the requested page.</h1>"
                f"<p id=\"errorCode\">{html.escape(error)}</p>{detail}", 400)


def redirect(location: str, headers: list[tuple[str, str]] | None = None) -> HttpAnswer:
    return HttpAnswer(302, [("location", location), ("cache-control", "no-store"),
                            *(headers or [])], b"")


def json_answer(status: int, document: object, headers: list[tuple[str, str]] | None = None
                ) -> HttpAnswer:
    return HttpAnswer(status, [("content-type", JSON), ("cache-control", "no-store"),
                               ("pragma", "no-cache"), *CORS_HEADERS, *(headers or [])],
                      json.dumps(document).encode("utf-8"))


def fatal_error_code(error: errors.FatalClientError) -> str:
    """The word Cognito's error page shows: ``redirect_mismatch`` for any callback problem."""
    if isinstance(error, (errors.InvalidRedirectURIError, errors.MissingRedirectURIError,
                          errors.MismatchingRedirectURIError)):
        return "redirect_mismatch"
    return error.error


def user_info(claims: Mapping[str, object], attributes: Mapping[str, str],
              readable: tuple[str, ...]) -> dict[str, object]:
    """userInfo's answer for an access token's claims: the attributes its scopes open, of those
    the app client may read (none named: all), with ``sub`` and ``username``. Pure."""
    scopes = set(str(claims.get("scope", "")).split())
    opened = scopes & set(SCOPE_ATTRIBUTES)
    narrowed = "profile" in scopes or bool(opened)  # openid alone: every readable attribute

    def wanted(name: str) -> bool:
        if readable and name not in readable:
            return False
        if not narrowed:
            return True
        return ("profile" in scopes and (name in PROFILE_ATTRIBUTES or name.startswith("custom:"))
                or any(name in SCOPE_ATTRIBUTES[s] for s in opened))

    answer: dict[str, object] = {name: value for name, value in attributes.items()
                                 if name != "sub" and wanted(name)}
    for name in ("email_verified", "phone_number_verified"):
        if isinstance(answer.get(name), str):
            answer[name] = answer[name] == "true"
    return {"sub": attributes.get("sub", claims.get("sub")), **answer,
            "username": claims.get("username")}


class HostedUi:
    """One domain's endpoints. ``handle`` is synchronous: call it from a worker thread."""

    def __init__(self, cognito: LocalCognito, domain: str, pool_id: str,
                 clock: Callable[[], float] = time.time):
        self.cognito = cognito
        self.domain = domain
        self.pool_id = pool_id
        self.clock = clock
        self.grants = oauth.Grants(clock)
        self.server, self.issuer = oauth.new_server(cognito, pool_id, self.grants)
        self.validator = self.server.validator
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        # Cookies belong to a host, not a port: two local domains on 127.0.0.1 must not share.
        self.session_cookie = f"cognito-{domain}"
        self.csrf_cookie = f"{CSRF_COOKIE}-{domain}"
        # oauthlib logs requests at debug level; whatever a program sets, none of it goes out.
        logging.getLogger("oauthlib").setLevel(logging.WARNING)

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str],
               body: bytes) -> HttpAnswer:
        routes = {paths.AUTHORIZE_PATH: {"GET": self.authorize},
                  paths.LOGIN_PATH: {"GET": self.login_page, "POST": self.login},
                  paths.TOKEN_PATH: {"POST": self.token},
                  paths.USERINFO_PATH: {"GET": self.userinfo, "POST": self.userinfo},
                  paths.REVOKE_PATH: {"POST": self.revoke},
                  paths.LOGOUT_PATH: {"GET": self.logout}}
        methods = routes.get(path)
        if methods is None:
            return page("Not found", "<h1>Not found</h1>", 404)
        if method == "OPTIONS" and path in (paths.TOKEN_PATH, paths.USERINFO_PATH,
                                            paths.REVOKE_PATH):
            return HttpAnswer(204, PREFLIGHT, b"")
        handler = methods.get(method)
        if handler is None:
            return HttpAnswer(405, [("allow", ", ".join(methods)), *CORS_HEADERS], b"")
        return handler(query, headers, body)

    # -- sessions --

    def _session(self, headers: Mapping[str, str]) -> Session | None:
        sid = cookies_of(headers).get(self.session_cookie)
        with self._lock:
            session = self._sessions.get(sid) if sid else None
            if session is not None and session.expires_at <= self.clock():
                del self._sessions[sid]
                session = None
        if session is not None and not self.cognito.user_can_sign_in(self.pool_id,
                                                                     session.username):
            return None
        return session

    def _new_session(self, username: str) -> tuple[str, str]:
        sid = oauth.new_secret()
        now = self.clock()
        with self._lock:
            for stale in [s for s, v in self._sessions.items() if v.expires_at <= now]:
                del self._sessions[stale]
            self._sessions[sid] = Session(username, now + SESSION_SECONDS, int(now))
        return set_cookie(self.session_cookie, sid, SESSION_SECONDS)

    def _end_session(self, headers: Mapping[str, str]) -> tuple[str, str]:
        sid = cookies_of(headers).get(self.session_cookie)
        with self._lock:
            self._sessions.pop(sid, None)
        return set_cookie(self.session_cookie, "", 0)

    # -- the authorize endpoint and the login page --

    def _check(self, query: str):
        """(scopes, parameters) of a valid authorization request, or the answer to a bad one."""
        uri = oauth.oauth_uri(f"{paths.AUTHORIZE_PATH}?{query}")
        try:
            scopes, _ = self.server.validate_authorization_request(uri)
        except errors.FatalClientError as error:
            return error_page(fatal_error_code(error), error.description)
        except errors.OAuth2Error as error:
            return redirect(error.in_uri(error.redirect_uri))
        return scopes, dict(parse_qsl(query, keep_blank_values=True))

    def authorize(self, query: str, headers: Mapping[str, str], body: bytes) -> HttpAnswer:
        checked = self._check(query)
        if isinstance(checked, HttpAnswer):
            return checked
        scopes, parameters = checked
        prompt = parameters.get("prompt", "")
        session = self._session(headers) if prompt != "login" else None
        if session is not None:
            return self._grant(query, scopes, parameters, session.username,
                               signed_in_at=session.signed_in_at)
        if prompt == "none":  # OpenID Connect Core 3.1.2.6: no session, no page
            return redirect(add_params_to_uri(parameters["redirect_uri"], [
                ("error", "login_required"),
                *([("state", parameters["state"])] if "state" in parameters else [])]))
        return redirect(f"{paths.LOGIN_PATH}?{query}")

    def login_page(self, query: str, headers: Mapping[str, str], body: bytes,
                   message: str | None = None) -> HttpAnswer:
        checked = self._check(query)
        if isinstance(checked, HttpAnswer):
            return checked
        token = oauth.new_secret()
        error = (f"<p id=\"loginErrorMessage\" class=\"error\">{html.escape(message)}</p>"
                 if message else "")
        action = html.escape(f"{paths.LOGIN_PATH}?{query}", quote=True)
        return page("Signin", f"<h1>Sign in with your username and password</h1>{error}"
                    f"<form method=\"post\" action=\"{action}\" name=\"cognitoSignInForm\">"
                    f"<input type=\"hidden\" name=\"{CSRF_FIELD}\" value=\"{token}\">"
                    "<label for=\"signInFormUsername\">Username</label>"
                    "<input id=\"signInFormUsername\" name=\"username\" type=\"text\" "
                    "autocomplete=\"username\" autocapitalize=\"none\" required>"
                    "<label for=\"signInFormPassword\">Password</label>"
                    "<input id=\"signInFormPassword\" name=\"password\" type=\"password\" "
                    "autocomplete=\"current-password\" required>"
                    "<input name=\"signInSubmitButton\" type=\"submit\" value=\"Sign in\">"
                    "</form>", headers=[set_cookie(self.csrf_cookie, token, SESSION_SECONDS)])

    def login(self, query: str, headers: Mapping[str, str], body: bytes) -> HttpAnswer:
        checked = self._check(query)
        if isinstance(checked, HttpAnswer):
            return checked
        scopes, parameters = checked
        form = _form(headers, body)
        expected = cookies_of(headers).get(self.csrf_cookie, "")
        given = (form or {}).get(CSRF_FIELD, "")
        if form is None or not expected or not hmac.compare_digest(expected.encode(),
                                                                   given.encode()):
            return error_page("invalid_request", "The sign-in form was not this page's (its "
                              "anti-forgery token is missing or wrong): open the page again.")
        client = self.validator.client(parameters.get("client_id"))
        try:
            username = self.cognito.check_password(self.pool_id, client,
                                                   form.get("username", ""),
                                                   form.get("password", ""))
        except SignInRefused as refused:
            return self.login_page(query, headers, b"", message=str(refused))
        return self._grant(query, scopes, parameters, username,
                           cookies=[self._new_session(username)])

    def _grant(self, query: str, scopes: list[str], parameters: Mapping[str, str], username: str,
               *, cookies: list[tuple[str, str]] | None = None,
               signed_in_at: int | None = None) -> HttpAnswer:
        """Issue the user's tokens (the trigger runs now) and redirect with their code."""
        try:
            tokens = self.issuer.sign_in(parameters["client_id"], username, scopes,
                                         parameters.get("nonce"),
                                         signed_in_at or int(self.clock()))
        except moto_hook.TriggerFailed as failed:
            return self.login_page(query, {}, b"", message=str(failed))
        uri = oauth.oauth_uri(f"{paths.AUTHORIZE_PATH}?{query}")
        answer_headers, _, status = self.server.create_authorization_response(
            uri, scopes=scopes, credentials={"user": username, "tokens": tokens})
        if status != 302 or "Location" not in answer_headers:
            return error_page("server_error")
        return redirect(answer_headers["Location"], cookies)

    # -- the JSON endpoints --

    def token(self, query: str, headers: Mapping[str, str], body: bytes) -> HttpAnswer:
        form = _form(headers, body)
        if form is None:
            return json_answer(400, {"error": "invalid_request"})
        try:
            answer_headers, text, status = self.server.create_token_response(
                oauth.oauth_uri(paths.TOKEN_PATH), "POST", body.decode("utf-8"),
                _oauth_headers(headers))
        except moto_hook.TriggerFailed as failed:
            return json_answer(400, {"error": "invalid_request", "error_description": str(failed)})
        # Cognito answers every token-endpoint error with 400 ("The token issuer endpoint").
        return json_answer(400 if status == 401 else status, json.loads(text),
                           [(k, v) for k, v in answer_headers.items()
                            if k.lower() == "www-authenticate"])

    def revoke(self, query: str, headers: Mapping[str, str], body: bytes) -> HttpAnswer:
        if _form(headers, body) is None:
            return json_answer(400, {"error": "invalid_request"})
        answer_headers, text, status = self.server.create_revocation_response(
            oauth.oauth_uri(paths.REVOKE_PATH), "POST", body.decode("utf-8"),
            _oauth_headers(headers))
        if status == 200:
            return HttpAnswer(200, [*CORS_HEADERS, ("cache-control", "no-store")], b"")
        return json_answer(status, json.loads(text))

    def userinfo(self, query: str, headers: Mapping[str, str], body: bytes) -> HttpAnswer:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _invalid_token("Access token is missing")
        found = self.cognito.access_token_user(self.pool_id, token.strip())
        if found is None:
            return _invalid_token("Access token is expired, disabled, or deleted, or the user "
                                  "has globally signed out.")
        claims, attributes = found
        if oauth.OPENID not in str(claims.get("scope", "")).split():
            return _invalid_token("Access token does not contain openid scope")
        client = self.cognito.app_client(self.pool_id, claims.get("client_id"))
        readable = client.read_attributes if client is not None else ()
        return json_answer(200, user_info(claims, attributes, readable))

    # -- sign-out --

    def logout(self, query: str, headers: Mapping[str, str], body: bytes) -> HttpAnswer:
        parameters = dict(parse_qsl(query, keep_blank_values=True))
        client = self.validator.client(parameters.get("client_id"))
        if client is None:
            return error_page("invalid_request", "client_id is missing or not an app client "
                              "of this domain")
        if "logout_uri" in parameters:
            if parameters["logout_uri"] not in client.logout_urls:
                return error_page("redirect_mismatch", "logout_uri is not a sign-out URL of "
                                  "this app client")
            return redirect(parameters["logout_uri"], [self._end_session(headers)])
        if "redirect_uri" in parameters and "response_type" in parameters:
            # "Logout and prompt the user to sign in as another user": the login page, checked
            # as the authorize endpoint checks it.
            return redirect(f"{paths.LOGIN_PATH}?{query}", [self._end_session(headers)])
        return error_page("invalid_request", "logout needs logout_uri, or redirect_uri and "
                          "response_type")


def _form(headers: Mapping[str, str], body: bytes) -> dict[str, str] | None:
    """A urlencoded form body, or ``None`` (another content type, or not UTF-8)."""
    if headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
        return None
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return None


def _oauth_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The request headers oauthlib reads, by their canonical names."""
    out = {"Content-Type": headers.get("content-type", "")}
    if "authorization" in headers:
        out["Authorization"] = headers["authorization"]
    return out


def _invalid_token(description: str) -> HttpAnswer:
    challenge = f'Bearer error="invalid_token", error_description="{description}"'
    return json_answer(401, {"error": "invalid_token", "error_description": description},
                       [("www-authenticate", challenge)])


class HostedUiApp:
    """ASGI: one domain's hosted UI on the sandbox's edge."""

    def __init__(self, ui: HostedUi):
        self.ui = ui

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > MAX_BODY_BYTES:
                return await _send(send, json_answer(413, {"error": "invalid_request"}))
            if not message.get("more_body"):
                break
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        loop = asyncio.get_running_loop()
        try:
            answer = await loop.run_in_executor(None, self.ui.handle, scope["method"],
                                                scope["path"],
                                                scope["query_string"].decode("latin-1"), headers,
                                                bytes(body))
        except Exception:  # noqa: BLE001 -- a sandbox bug: say so, answer Cognito's error page
            traceback.print_exc()
            answer = error_page("server_error")
        await _send(send, answer)


async def _send(send, answer: HttpAnswer) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
    headers.append((b"content-length", str(len(answer.body)).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})

