"""The local API Gateway: one HTTP API's stages, routes, JWT authorizer, Lambda proxy
integrations and resource-policy checks, served on 127.0.0.1.

``Gateway.handle`` is the whole of API Gateway's work on one request, without sockets:

1. the stage, by path prefix (``/<stage>``; none for ``$default``); no stage: 404;
2. the route: ``jwt_scoped.route_keys.select_route``, the project's one model of API Gateway's
   route selection; no route: the gateway's own CORS preflight answer for an ``OPTIONS``
   request when CORS is configured, else 404 ``{"message":"Not Found"}``;
3. the stage's throttling: 429 ``{"message":"Too Many Requests"}``;
4. the route's authorization: ``NONE``, or the JWT authorizer (``sandbox/jwt_authorizer.py``):
   401 ``{"message":"Unauthorized"}`` with ``www-authenticate``, 403 ``{"message":"Forbidden"}``;
5. the integration: the Lambda function its URI names, invoked only when the function's
   resource policy lets ``apigateway.amazonaws.com`` invoke it from this route's ARN, with
   payload format 2.0; 500 ``{"message":"Internal Server Error"}`` when it may not, when the
   function fails or its answer is malformed or too large; 413 when the event is larger than
   Lambda takes; 503 when the integration's timeout (30 s, the wait for a free worker included)
   passes first;
6. the configured CORS headers on the response, and one access-log line in the stage's format.

``GatewayApp`` is the ASGI app the edge (``sandbox/edge.py``) serves it from: it refuses what API
Gateway refuses before any of that (a request line and headers over 10,240 bytes, a body over
10 MB, not exactly one ``Host``). ``handle`` runs on the edge's event loop, which also waits for
the function's answer: no thread stands between a request and its function.
"""

from __future__ import annotations

import base64
import functools
import secrets
import threading
import time
import traceback
from collections.abc import Callable
from urllib.parse import unquote

from jwt_scoped import rules
from jwt_scoped.modes import JWT_AUTHORIZATION, NO_AUTHORIZATION
from jwt_scoped.route_keys import DEFAULT_ROUTE, parse_route_key, select_route
from jwt_scoped.rules import DEFAULT_STAGE

from . import cors as cors_rules
from . import jwt_authorizer as jwt_rules
from .access_log import render
from .apis import Api, LocalApis, Route, Stage
from .arns import integration_function
from .lambdas import REQUEST_TOO_LARGE, CallerTimeout, LambdaError, LocalLambda
from .payload import (
    Context,
    HttpAnswer,
    MalformedResponse,
    Request,
    event_v2,
    joined_headers,
    query_parameters,
    request_time,
    response_v2,
)
from .throttle import TokenBucket

APIGATEWAY_PRINCIPAL = rules.APIGATEWAY_PRINCIPAL
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # HTTP API payload size quota ("Quotas for ... an HTTP API")
MESSAGES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            413: "Request Entity Too Large", 429: "Too Many Requests",
            431: "Request Header Fields Too Large", 500: "Internal Server Error",
            503: "Service Unavailable"}
PAYLOAD_FORMAT = "2.0"
SIGNED_TOKENS = 4096
"""Tokens whose signature check the gateway remembers (about 1 KB each)."""
# The access log's integrationErrorMessage when API Gateway may not invoke the function (AWS
# re:Post knowledge center, "api-gateway-http-lambda-integrations").
NO_PERMISSION = ("The IAM role configured on the integration or API Gateway doesn't have "
                 "permissions to call the integration. Check the permissions and try again.")
FUNCTION_ERROR = ("The Lambda function returned the following error: {message}. Check your Lambda "
                  "function code and try again.")
MALFORMED = ("The response from the Lambda function doesn't match the format that API Gateway "
             "expects. {detail}")


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
                                          key=lambda s: s.name == DEFAULT_STAGE)
        self.authorizers = {a.id: a for a in apis.authorizers.values() if a.api_id == api.id}
        self.integrations = {i.id: i for i in apis.integrations.values() if i.api_id == api.id}
        self.lambdas = lambdas
        self.keys = keys
        # A token's signature is checked once (the keys never change while serving), and its
        # claims written as the payload's strings then.
        self._signed = functools.lru_cache(maxsize=SIGNED_TOKENS)(
            lambda token, issuer: jwt_rules.signed_claims(token, issuer, keys))

        self.log = log
        self.clock = clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    # -- the pipeline --

    async def handle(self, request: Request) -> HttpAnswer:
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
            answer = await self._answer(request, headers, found, variables, now_ms)
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

    async def _answer(self, request: Request, headers: dict[str, str], found, variables: dict,
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
        if route.authorization_type == JWT_AUTHORIZATION:
            claims, problem, claim_text = self._authorize(route, request, headers)
            if claims is None:
                variables["authorizer.error"] = problem
                if problem is None:  # the route names no JWT authorizer of this API
                    return gateway_error(500)
                return HttpAnswer(401, [("content-type", "application/json"),
                                        ("www-authenticate", jwt_rules.challenge(problem))],
                                  b'{"message":"Unauthorized"}')
            claim_text = claim_text if claim_text is not None else jwt_rules.claim_strings(claims)
            for name, value in claim_text.items():
                variables[f"authorizer.claims.{name}"] = value
            if not jwt_rules.scopes_admit(route.scopes, claims):
                return gateway_error(403)
        elif route.authorization_type != NO_AUTHORIZATION:
            # AWS_IAM (SigV4) and CUSTOM (Lambda) authorizers are not modelled: refuse.
            variables["authorizer.error"] = (f"authorization type {route.authorization_type} is "
                                             "not supported by the sandbox")
            return gateway_error(403)
        return await self._integrate(stage, route, match.path_parameters, request, headers, claims,
                               claim_text, variables, now_ms)

    def _bucket(self, stage: Stage, route_key: str) -> TokenBucket:
        key = (stage.name, route_key)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                limit = stage.default_throttle
                bucket = (TokenBucket(limit.burst, limit.rate) if limit is not None
                          else TokenBucket(float("inf"), float("inf")))
                self._buckets[key] = bucket
        return bucket

    def _authorize(self, route: Route, request: Request,
                   headers: dict[str, str]) -> tuple[dict | None, str | None, dict | None]:
        """(the token's claims, None, the claims as strings), or (None, why it is refused,
        None); (None, None, None) when the route has no JWT authorizer of this API."""
        authorizer = self.authorizers.get(route.authorizer_id or "")
        if authorizer is None or authorizer.type != JWT_AUTHORIZATION or not authorizer.identity_sources:
            return None, None, None
        source = authorizer.identity_sources[0]
        token = jwt_rules.token_from(source, headers, query_parameters(request.raw_query))
        if token is None:
            return None, jwt_rules.MISSING.format(source=jwt_rules.identity_source_name(source)), None
        verdict = jwt_rules.verify(token, authorizer, self.keys, self.clock(), self._signed)
        return verdict.claims, verdict.error, verdict.claim_text

    async def _integrate(self, stage: Stage, route: Route, path_parameters: dict, request: Request,
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
            scopes=jwt_rules.token_scopes(claims) if claims is not None else None)
        if integration.payload_format != PAYLOAD_FORMAT:
            variables["integrationErrorMessage"] = (
                f"payload format {integration.payload_format} is not served by the sandbox")
            return gateway_error(500)
        event = event_v2(request, context)
        limit = integration.timeout_ms / 1000
        started = time.perf_counter()
        try:
            result = await self.lambdas.invoke_async(spec, event, timeout=limit)
        except CallerTimeout:
            variables["integrationErrorMessage"] = "The integration timed out."
            return gateway_error(503)
        except LambdaError as failure:
            variables["integration.error"] = str(failure)
            if failure.error.get("errorType") == REQUEST_TOO_LARGE:
                variables["integrationErrorMessage"] = str(failure)
                return gateway_error(413)
            variables["integrationErrorMessage"] = FUNCTION_ERROR.format(message=str(failure))
            return gateway_error(500)
        finally:
            variables["integration.latency"] = int((time.perf_counter() - started) * 1000)
        variables["integration.status"] = 200
        try:
            return response_v2(result)
        except MalformedResponse as problem:
            variables["integrationErrorMessage"] = MALFORMED.format(detail=problem)
            return gateway_error(500)


def head_bytes(method: str, target: bytes, version: str, headers: list[tuple[bytes, bytes]]) -> int:
    """What API Gateway counts against its 10,240 bytes: the request line and the header values
    ("Quotas for configuring and running an HTTP API": total combined size of request line and
    header values)."""
    line = len(method) + 1 + len(target) + len(" HTTP/") + len(version)
    return line + sum(len(value) for _, value in headers)


class GatewayApp:
    """ASGI: one HTTP API's gateway. What no API Gateway would pass on is refused here, with API
    Gateway's JSON answers: a request line and headers over the hard quota (431, as API Gateway
    answers it: Backbencher.dev, "SOLVED: 431 Status Code With Request Header Fields Too Large"),
    a body over the payload quota (413), a request without exactly one ``Host`` (400)."""

    def __init__(self, gateway: Gateway):
        self.gateway = gateway

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        headers = scope["headers"]
        target = scope["raw_path"] + (b"?" + scope["query_string"] if scope["query_string"] else b"")
        if head_bytes(scope["method"], target, scope["http_version"], headers) \
                > rules.MAX_REQUEST_LINE_AND_HEADERS_BYTES:
            return await self._send(send, gateway_error(431), close=True)
        if scope["http_version"] != "1.0" and sum(name == b"host" for name, _ in headers) != 1:
            return await self._send(send, gateway_error(400), close=True)
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > MAX_PAYLOAD_BYTES:
                return await self._send(send, gateway_error(413), close=True)
            if not message.get("more_body"):
                break
        path, query = scope["raw_path"].decode("latin-1"), scope["query_string"].decode("latin-1")
        request = Request(method=scope["method"], raw_path=path, raw_query=query,
                          headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers],
                          body=bytes(body), source_ip=(scope.get("client") or ("", 0))[0],
                          protocol=f"HTTP/{scope['http_version']}")
        try:
            answer = await self.gateway.handle(request)
        except Exception:  # noqa: BLE001 -- a sandbox bug: answer as API Gateway would, and say so
            traceback.print_exc()
            answer = gateway_error(500)
        await self._send(send, answer, head=scope["method"] == "HEAD")

    @staticmethod
    async def _send(send, answer: HttpAnswer, close: bool = False, head: bool = False) -> None:
        headers = [(name.lower().encode("latin-1"), value.encode("latin-1"))
                   for name, value in answer.headers
                   if name.lower() not in ("content-length", "connection", "transfer-encoding")]
        headers.append((b"content-length", str(len(answer.body)).encode()))
        if close:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else answer.body})
