"""The local API Gateway: one HTTP API's stages, routes, JWT authorizer, Lambda proxy
integrations and resource-policy checks, served on 127.0.0.1.

``Gateway.handle`` is the whole of API Gateway's work on one request, without sockets:

1. the stage, by path prefix (``/<stage>``; none for ``$default``); no stage: 404;
2. the route: ``jwt_scoped.route_keys.select_route``, the project's one model of API Gateway's
   route selection; no route: the gateway's own CORS preflight answer for an ``OPTIONS``
   request when CORS is configured, else 404 ``{"message":"Not Found"}``;
3. the stage's throttling for that route: 429 ``{"message":"Too Many Requests"}``;
4. the route's authorization: ``NONE``, or the JWT authorizer (``sandbox/jwt_authorizer.py``):
   401 ``{"message":"Unauthorized"}`` with ``www-authenticate``, 403 ``{"message":"Forbidden"}``;
5. the integration: the Lambda function its URI names, invoked only when the function's
   resource policy lets ``apigateway.amazonaws.com`` invoke it from this route's ARN, with the
   payload format the integration names; 500 ``{"message":"Internal Server Error"}`` when it may
   not, when the function fails, or when its answer is malformed; 503 when the integration's
   timeout passes first;
6. the configured CORS headers on the response, and one access-log line in the stage's format.

``GatewayServer`` binds the port first (so "port in use" is known before anything starts) and
then serves a ``Gateway`` from a ``ThreadingHTTPServer`` (keep-alive, Nagle off, SO_REUSEADDR).
"""

from __future__ import annotations

import base64
import contextlib
import errno
import functools
import secrets
import socket
import threading
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from jwt_scoped import rules
from jwt_scoped.route_keys import DEFAULT_ROUTE, parse_route_key, select_route

from . import cors as cors_rules
from . import jwt_authorizer as jwt_rules
from .access_log import render
from .apis import Api, LocalApis, Route, Stage
from .arns import integration_function
from .lambdas import LambdaError, LocalLambda
from .payload import (
    Context,
    HttpAnswer,
    MalformedResponse,
    Request,
    event_v1,
    event_v2,
    joined_headers,
    query_parameters,
    request_time,
    response_v1,
    response_v2,
)
from .throttle import TokenBucket

APIGATEWAY_PRINCIPAL = rules.APIGATEWAY_PRINCIPAL
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # HTTP API payload size quota ("Amazon API Gateway quotas")
MESSAGES = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 413: "Request Entity Too Large",
            429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
# The access log's integrationErrorMessage when API Gateway may not invoke the function (AWS
# re:Post knowledge center, "api-gateway-http-lambda-integrations").
NO_PERMISSION = ("The IAM role configured on the integration or API Gateway doesn't have "
                 "permissions to call the integration. Check the permissions and try again.")
FUNCTION_ERROR = ("The Lambda function returned the following error: {message}. Check your Lambda "
                  "function code and try again.")
MALFORMED = ("The response from the Lambda function doesn't match the format that API Gateway "
             "expects. {detail}")
TIMED_OUT = "Sandbox.Timedout"


def gateway_error(status: int, headers: list[tuple[str, str]] | None = None) -> HttpAnswer:
    """One of API Gateway's own JSON answers: ``{"message":"Not Found"}`` and the like."""
    body = f'{{"message":"{MESSAGES[status]}"}}'.encode()
    return HttpAnswer(status, [("content-type", "application/json"), *(headers or [])], body)


def new_request_id() -> str:
    """Shaped like API Gateway's ``apigw-requestid`` (``Mc7UVioPPHcEKPA=``)."""
    return base64.b64encode(secrets.token_bytes(10)).decode()


def source_arn(api: Api, stage: str, method: str, route_key: str) -> str:
    """The ARN API Gateway invokes a route's function from: ``<executionArn>/<stage>/<METHOD>
    <path>``, or ``.../<stage>/$default`` for the ``$default`` route (what a resource policy's
    ``SourceArn`` is compared with)."""
    if route_key == DEFAULT_ROUTE:
        return f"{api.execution_arn}/{stage}/{DEFAULT_ROUTE}"
    route = parse_route_key(route_key)
    verb = "*" if route.method == "ANY" else method
    return f"{api.execution_arn}/{stage}/{verb}{route.path}"


class Gateway:
    """One HTTP API, as API Gateway serves it."""

    def __init__(self, api: Api, apis: LocalApis, lambdas: LocalLambda, keys: jwt_rules.KeyLookup,
                 log: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.time,
                 intercept: Callable[[Request], HttpAnswer | None] | None = None):
        """``intercept(request)``: an answer to give instead of API Gateway's (``None``: none),
        for tests that need a stage misbehaving, e.g. still settling after a deploy."""
        self.api = api
        self.intercept = intercept
        self.account = apis.account
        self.routes: dict[str, Route] = apis.routes_of(api.id)
        route_keys = list(self.routes)
        # The routes never change while serving: remember each (method, path)'s answer, so a
        # 300-route API does not rank 300 routes on every request.
        self._select = functools.lru_cache(maxsize=4096)(
            lambda method, path: select_route(method, path, route_keys))
        # Named stages first: /Test/... belongs to "Test" even when a $default stage exists.
        self.stages: list[Stage] = sorted(apis.stages_of(api.id),
                                          key=lambda s: s.name == "$default")
        self.authorizers = {a.id: a for a in apis.authorizers.values() if a.api_id == api.id}
        self.integrations = {i.id: i for i in apis.integrations.values() if i.api_id == api.id}
        self.lambdas = lambdas
        self.keys = keys
        self.log = log
        self.clock = clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    # -- the pipeline --

    def handle(self, request: Request) -> HttpAnswer:
        started = time.perf_counter()
        now_ms = int(self.clock() * 1000)
        headers = joined_headers(request.headers)
        variables: dict[str, object] = {
            "requestId": (request_id := new_request_id()), "extendedRequestId": request_id,
            "requestTime": request_time(now_ms), "requestTimeEpoch": now_ms,
            "httpMethod": request.method, "path": request.raw_path, "protocol": request.protocol,
            "identity.sourceIp": request.source_ip,
            "identity.userAgent": headers.get("user-agent"), "apiId": self.api.id,
            "accountId": self.account, "domainName": headers.get("host"), "routeKey": "-"}
        found = self._stage_for(request.raw_path)
        stage = found[0] if found else None
        if stage is not None:
            variables["stage"] = stage.name
        answer = self.intercept(request) if self.intercept is not None else None
        if answer is None:
            answer = self._answer(request, headers, found, variables, now_ms)
        if self.api.cors is not None and not variables.get("preflight"):
            answer = HttpAnswer(answer.status, cors_rules.without_cors_headers(answer.headers)
                                + cors_rules.response_headers(self.api.cors, headers), answer.body)
        answer = HttpAnswer(answer.status, [*answer.headers, ("apigw-requestid", request_id)],
                            answer.body)
        if stage is not None and stage.log_format and self.log is not None:
            variables.update({"status": answer.status, "responseLength": len(answer.body),
                              "responseLatency": int((time.perf_counter() - started) * 1000)})
            self.log(render(stage.log_format, variables))
        return answer

    def _stage_for(self, raw_path: str) -> tuple[Stage, str] | None:
        for stage in self.stages:
            prefix = stage.path_prefix
            if not prefix:
                return stage, raw_path or "/"
            if raw_path == prefix or raw_path.startswith(prefix + "/"):
                return stage, raw_path[len(prefix):] or "/"
        return None

    def _answer(self, request: Request, headers: dict[str, str], found, variables: dict,
                now_ms: int) -> HttpAnswer:
        if self.api.execute_api_endpoint_disabled:
            # "disableExecuteApiEndpoint": the default endpoint answers 403 to everyone.
            return gateway_error(403)
        if found is None or not found[0].deployed:
            return gateway_error(404)
        stage, path = found
        match = self._select(request.method, path)
        if match is None:
            if request.method == "OPTIONS" and self.api.cors is not None:
                variables["preflight"] = True
                return HttpAnswer(cors_rules.PREFLIGHT_STATUS,
                                  cors_rules.preflight_headers(self.api.cors, headers), b"")
            return gateway_error(404)
        route = self.routes[match.key]
        variables["routeKey"] = route.key
        if not self._bucket(stage, route.key).take():
            return gateway_error(429)
        claims: dict | None = None
        claim_text: dict[str, str] | None = None
        if route.authorization_type == "JWT":
            claims, problem = self._authorize(route, request, headers)
            if claims is None:
                variables["authorizer.error"] = problem
                if problem is None:  # the route names no JWT authorizer of this API
                    return gateway_error(500)
                return HttpAnswer(401, [("content-type", "application/json"),
                                        ("www-authenticate", jwt_rules.challenge(problem))],
                                  b'{"message":"Unauthorized"}')
            claim_text = jwt_rules.claim_strings(claims)
            for name, value in claim_text.items():
                variables[f"authorizer.claims.{name}"] = value
            if not jwt_rules.scopes_admit(route.scopes, claims):
                return gateway_error(403)
        elif route.authorization_type != "NONE":
            # AWS_IAM (SigV4) and CUSTOM (Lambda) authorizers are not modelled: refuse.
            variables["authorizer.error"] = (f"authorization type {route.authorization_type} is "
                                             "not supported by the sandbox")
            return gateway_error(403)
        return self._integrate(stage, route, match.path_parameters, request, headers, claims,
                               claim_text, variables, now_ms)

    def _bucket(self, stage: Stage, route_key: str) -> TokenBucket:
        key = (stage.name, route_key)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                limit = stage.throttle_for(route_key)
                bucket = (TokenBucket(limit.burst, limit.rate) if limit is not None
                          else TokenBucket(float("inf"), float("inf")))
                self._buckets[key] = bucket
        return bucket

    def _authorize(self, route: Route, request: Request,
                   headers: dict[str, str]) -> tuple[dict | None, str | None]:
        """(the token's claims, None), or (None, why it is refused); (None, None) when the
        route has no JWT authorizer of this API."""
        authorizer = self.authorizers.get(route.authorizer_id or "")
        if authorizer is None or authorizer.type != "JWT" or not authorizer.identity_sources:
            return None, None
        source = authorizer.identity_sources[0]
        token = jwt_rules.token_from(source, headers, query_parameters(request.raw_query))
        if token is None:
            return None, jwt_rules.MISSING.format(source=jwt_rules.identity_source_name(source))
        verdict = jwt_rules.verify(token, authorizer, self.keys, self.clock())
        return verdict.claims, verdict.error

    def _integrate(self, stage: Stage, route: Route, path_parameters: dict, request: Request,
                   headers: dict[str, str], claims: dict | None, claim_text: dict | None,
                   variables: dict, now_ms: int) -> HttpAnswer:
        integration = self.integrations.get(route.integration_id or "")
        if integration is None:
            variables["integrationErrorMessage"] = "The route has no integration."
            return gateway_error(500)
        spec = (self.lambdas.find(integration_function(integration.uri))
                if integration.type == "AWS_PROXY" else None)
        if spec is None:
            variables["integrationErrorMessage"] = (
                f"Integration {integration.id} ({integration.type} {integration.uri}) names no "
                "function of this sandbox.")
            return gateway_error(500)
        if not self.lambdas.allows(spec, APIGATEWAY_PRINCIPAL,
                                   source_arn(self.api, stage.name, request.method, route.key),
                                   self.account):
            variables["integrationErrorMessage"] = NO_PERMISSION
            return gateway_error(500)
        context = Context(
            api_id=self.api.id, account=self.account,
            domain_name=headers.get("host") or self.api.endpoint.split("//")[-1],
            stage=stage.name, route_key=route.key, request_id=variables["requestId"],
            time_epoch_ms=now_ms,
            path_parameters={k: unquote(v) for k, v in path_parameters.items()},
            claims=claim_text,
            scopes=jwt_rules.token_scopes(claims) if claims is not None else None,
            stage_variables=stage.variables)
        version_two = integration.payload_format == "2.0"
        event = (event_v2(request, context) if version_two
                 else event_v1(request, context, parse_route_key(route.key).path or route.key))
        limit = integration.timeout_ms / 1000
        started = time.perf_counter()
        try:
            result = self.lambdas.invoke(spec, event, timeout=limit)
        except LambdaError as failure:
            variables["integration.error"] = str(failure)
            if failure.error.get("errorType") == TIMED_OUT and limit < spec.timeout:
                variables["integrationErrorMessage"] = "The integration timed out."
                return gateway_error(503)
            variables["integrationErrorMessage"] = FUNCTION_ERROR.format(message=str(failure))
            return gateway_error(500)
        finally:
            variables["integration.latency"] = int((time.perf_counter() - started) * 1000)
        variables["integration.status"] = 200
        try:
            return response_v2(result) if version_two else response_v1(result)
        except MalformedResponse as problem:
            variables["integrationErrorMessage"] = MALFORMED.format(detail=problem)
            return gateway_error(500)


class PortInUse(OSError):
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        super().__init__(f"port {port} on {host} is in use; stop what holds it or pick another "
                         "with --port")


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True  # TIME_WAIT sockets of a clean stop do not block a restart
    daemon_threads = True
    gateway: Gateway | None = None

    def __init__(self, address):
        super().__init__(address, _Handler, bind_and_activate=False)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway
    # http.server sends headers and body separately: without this, Nagle's algorithm meets the
    # client's delayed ACK and every keep-alive response waits about 40 ms.
    disable_nagle_algorithm = True
    timeout = 60  # idle keep-alive connections close after this
    server: _Server

    def setup(self):
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self):
        with contextlib.suppress(OSError):
            super().finish()
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)

    def version_string(self) -> str:
        return "jwt-scoped-api-sandbox"

    def log_message(self, format, *args):  # noqa: A002 -- the access log is the gateway's
        pass

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_PAYLOAD_BYTES:
            self.close_connection = True
            return self._write(gateway_error(413))
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        request = Request(method=self.command, raw_path=path, raw_query=query,
                          headers=list(self.headers.items()), body=body,
                          source_ip=self.client_address[0], protocol=self.request_version)
        try:
            answer = self.server.gateway.handle(request)
        except Exception:  # noqa: BLE001 -- a sandbox bug: answer as API Gateway would, and say so
            traceback.print_exc()
            answer = gateway_error(500)
        self._write(answer)

    def _write(self, answer: HttpAnswer):
        self.send_response(answer.status)
        for name, value in answer.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve


class GatewayServer:
    """A listening socket on 127.0.0.1, bound at once; ``serve`` starts answering."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self._server = _Server((host, port))
        try:
            self._server.server_bind()
            self._server.server_activate()
        except OSError as error:
            self._server.server_close()
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(host, port) from None
            raise
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def serve(self, gateway: Gateway) -> None:
        self._server.gateway = gateway
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name=f"gateway-{self.port}")
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, close open keep-alive connections, release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        with self._server.connections_lock:
            for connection in list(self._server.connections):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
