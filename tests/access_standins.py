"""Local stand-ins for `access verify` to run against, on 127.0.0.1 only:

- Cognito: moto in server mode (``ThreadedMotoServer``), seeded from a stack config with boto3;
  ``seed_stack`` returns the same outputs a deployed stack exports.
- API Gateway: ``Gateway``, a threading ``http.server`` that does what an HTTP API with this
  program's JWT authorizer does: checks the token's signature against moto's JWKS
  (``/<poolId>/.well-known/jwks.json``), its issuer, audience (``aud``, or ``client_id`` when
  there is no ``aud``) and expiry; answers 401 with ``www-authenticate: Bearer ...
  error_description="..."`` on a missing or bad token and 403 ``{"message":"Forbidden"}`` on a
  token without one of the route's scopes; otherwise runs the route's real handler.

moto does not run Pre Token Generation triggers, so its tokens carry ``cognito:groups`` but not
our scopes. The gateway therefore derives the token's scopes by running the real trigger
(``functions/pre_token_generation/handler.py``) on the token's ``cognito:groups`` and client id:
it simulates what Cognito plus the trigger would have put in the token.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import boto3
import jwt
from moto.server import ThreadedMotoServer

from jwt_scoped.http_api import route_url
from jwt_scoped.route_keys import answering_route
from jwt_scoped.scope_format import scope_name
from program.stack import StackSettings

from functions_loader import load_handler

REGION = "us-east-1"


@contextlib.contextmanager
def moto_server():
    """moto on a free port of 127.0.0.1; yields its base URL and always stops it."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log in test output
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        inner = getattr(server, "_server", None)  # stop() leaves the socket open
        if inner is not None:
            inner.server_close()


def admin_client(moto_url: str, region: str):
    """A signed client for seeding moto (any credentials do)."""
    return boto3.client("cognito-idp", region_name=region, endpoint_url=moto_url,
                        aws_access_key_id="testing",
                        aws_secret_access_key="testing")  # noqa: S106 -- moto takes any


def password_for(username: str) -> str:
    return f"Pw-{username}-9xZ.long-enough"


def seed_stack(moto_url: str, settings: StackSettings, region: str = REGION) -> dict:
    """Create the pool, public client, groups and users of ``settings`` in moto. Returns the
    stack outputs without ``api_url``/``route_urls`` (those come from the gateway)."""
    cognito = admin_client(moto_url, region)
    pool_id = cognito.create_user_pool(PoolName="access-verify")["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="access-verify", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    for group in settings.groups:
        cognito.create_group(UserPoolId=pool_id, GroupName=group.name)
    for user in settings.users:
        cognito.admin_create_user(UserPoolId=pool_id, Username=user.username,
                                  MessageAction="SUPPRESS")
        cognito.admin_set_user_password(UserPoolId=pool_id, Username=user.username,
                                        Password=password_for(user.username), Permanent=True)
        for group in user.groups:
            cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=user.username,
                                            GroupName=group)
    return {
        "user_pool_id": pool_id,
        "app_client_id": client_id,
        "issuer_url": f"https://cognito-idp.{region}.amazonaws.com/{pool_id}",
        "hosted_ui_url": "https://example.invalid/oauth2/authorize",
        "token_use": settings.token_use,
        "scopes": {g.name: scope_name(g.name, client_id) for g in settings.groups},
        "test_user_passwords": {u.username: password_for(u.username) for u in settings.users},
    }


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (for 'unreachable')."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the gateway -------------------------------------------------------------------------

@dataclass
class GatewayRoute:
    key: str
    function: str
    scopes: list[str]
    """Empty: any valid token (a signed-in route)."""
    public: bool = False
    """No authorizer at all."""


@dataclass
class Gateway:
    """An HTTP API stage with one JWT authorizer, standing in for API Gateway."""

    issuer: str
    audience: str
    jwks_url: str
    token_use: str
    routes: list[GatewayRoute]
    stage: str = "$default"
    fail_first: int = 0
    """Answer this many requests with 503 first, like a stage that is still settling."""
    requests: int = 0
    """Requests answered so far."""
    token_uses: set = field(default_factory=set)
    """The ``token_use`` claims of the valid tokens it saw."""
    server: ThreadingHTTPServer | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}" + ("" if self.stage == "$default" else f"/{self.stage}")

    def start(self) -> Gateway:
        self._jwks = jwt.PyJWKClient(self.jwks_url, cache_keys=True)
        self._trigger = load_handler("pre_token_generation")
        self._handlers = {r.function: load_handler(r.function) for r in self.routes}
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_any(self):
                status, headers, body = gateway.answer(self.command, self.path,
                                                       self.headers.get("Authorization"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                data = body.encode()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_any

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def outputs(self, seeded: Mapping) -> dict:
        """The stack outputs: what moto holds plus this gateway's URLs."""
        return {**seeded, "api_url": self.url,
                "route_urls": {r.key: route_url(self.url, r.key) for r in self.routes}}

    # -- what API Gateway does with a request --

    def answer(self, method: str, raw_path: str, authorization: str | None):
        self.requests += 1
        if self.requests <= self.fail_first:
            return 503, {"content-type": "application/json"}, '{"message":"Service Unavailable"}'
        path = urlsplit(raw_path).path
        prefix = "" if self.stage == "$default" else f"/{self.stage}"
        route = self.route_for(method, path[len(prefix):] or "/") if path.startswith(prefix) else None
        if route is None:
            return 404, {"content-type": "application/json"}, '{"message":"Not Found"}'
        claims, problem = ({}, None) if route.public else self.authorize(authorization)
        if problem:
            return 401, {"content-type": "application/json", "www-authenticate":
                         f'Bearer scope="" error="invalid_token" error_description="{problem}"'
                         }, '{"message":"Unauthorized"}'
        if route.scopes and not set(self.scopes_of(claims)) & set(route.scopes):
            return 403, {"content-type": "application/json"}, '{"message":"Forbidden"}'
        event = {"version": "2.0", "routeKey": route.key, "rawPath": path,
                 "requestContext": {"authorizer": {"jwt": {
                     "claims": {k: str(v) for k, v in claims.items()},
                     "scopes": self.scopes_of(claims) if self.token_use == "access" else None}}}}
        result = self._handlers[route.function].handler(event, None)
        return result["statusCode"], result.get("headers", {}), result.get("body", "")

    def route_for(self, method: str, path: str) -> GatewayRoute | None:
        """The route API Gateway would pick (the project's one model of route selection)."""
        key = answering_route(method, path, [r.key for r in self.routes])
        return next((r for r in self.routes if r.key == key), None)

    def authorize(self, authorization: str | None) -> tuple[dict, str | None]:
        if not authorization:
            return {}, "the Authorization header is missing"
        token = authorization[7:] if authorization.lower().startswith("bearer ") else authorization
        try:
            key = self._jwks.get_signing_key_from_jwt(token).key
            claims = jwt.decode(token, key, algorithms=["RS256"], issuer=self.issuer, leeway=5,
                                options={"verify_aud": False, "require": ["exp", "iss"]})
        except jwt.ExpiredSignatureError:
            return {}, "the token has expired"
        except jwt.InvalidSignatureError:
            return {}, "the token signature is invalid"
        except jwt.InvalidIssuerError:
            return {}, "the token does not have a valid issuer"
        except (jwt.PyJWTError, ValueError) as error:
            return {}, f"the token is not valid: {type(error).__name__}"
        audience = claims.get("aud", claims.get("client_id"))  # client_id only without aud
        if audience != self.audience:
            return {}, "the token does not have a valid audience"
        self.token_uses.add(claims.get("token_use"))
        return claims, None

    def scopes_of(self, claims: Mapping) -> list[str]:
        """The scopes Cognito would have put in this token, by running the real trigger: into
        ID tokens for tokenUse id (V1_0), into access tokens for tokenUse access (V2_0)."""
        if claims.get("token_use") != self.token_use:
            return claims.get("scope", "").split()
        groups = claims.get("cognito:groups", [])
        client_id = claims.get("aud", claims.get("client_id"))
        version = "1" if self.token_use == "id" else "2"
        event = {"version": version, "triggerSource": "TokenGeneration_Authentication",
                 "region": REGION, "userPoolId": self.issuer.rsplit("/", 1)[-1],
                 "userName": claims.get("cognito:username", claims.get("username")),
                 "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown",
                                   "clientId": client_id},
                 "request": {"userAttributes": {}, "groupConfiguration": {
                     "groupsToOverride": list(groups), "iamRolesToOverride": [],
                     "preferredRole": None}},
                 "response": {}}
        # The trigger logs a line to stdout; keep it out of the CLI output the tests read (the
        # client is blocked on this very request meanwhile, so nothing else is printing).
        with contextlib.redirect_stdout(io.StringIO()):
            response = self._trigger.handler(event, None)["response"]
        if version == "1":
            claim = (response.get("claimsOverrideDetails") or {}).get(
                "claimsToAddOrOverride", {}).get("scope", claims.get("scope", ""))
            return claim.split()
        added = ((response.get("claimsAndScopeOverrideDetails") or {})
                 .get("accessTokenGeneration", {}).get("scopesToAdd", []))
        return claims.get("scope", "").split() + list(added)


def gateway_for(settings: StackSettings, seeded: Mapping, moto_url: str, *,
                scopes: Mapping[str, Sequence[str]] | None = None, fail_first: int = 0) -> Gateway:
    """A started gateway serving ``settings``' routes with their scopes for the seeded pool;
    ``scopes`` overrides the scopes of some routes (a misconfigured gateway)."""
    client_id = seeded["app_client_id"]
    routes = [GatewayRoute(r.route, r.function, list((scopes or {}).get(
        r.route, [scope_name(g, client_id) for g in r.groups or ()])), r.access == "public")
        for r in settings.routes]
    return Gateway(issuer=seeded["issuer_url"], audience=client_id,
                   jwks_url=f"{moto_url}/{seeded['user_pool_id']}/.well-known/jwks.json",
                   token_use=settings.token_use, routes=routes, stage=settings.stage_name,
                   fail_first=fail_first).start()
