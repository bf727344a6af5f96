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
   Lambda takes (the function is not invoked); 503 ``{"message":"Service Unavailable"}`` at
   the integration's timeout (``timeoutMilliseconds``, 30 s by default) when the answer has not
   come by then, the wait for a free worker and a cold start included;
6. the configured CORS headers on the response, and one access-log line in the stage's format.

``GatewayApp`` is the ASGI app the edge (``sandbox/edge.py``) serves it from: it refuses what API
Gateway refuses before any of that (a request line and headers over 10,240 bytes, a body over
10 MB, not exactly one ``Host``, a framing a request smuggler relies on). ``handle`` runs on the
edge's event loop, which also waits for the function's answer: no thread stands between a
request and its function. What repeats from request to request is worked out once: a token's
signature check, scopes and claims as the event carries them; a (method, path)'s route; an
integration's function and whether its resource policy admits the route; a log format's parse.
"""

from __future__ import annotations

import binascii
import functools
import json
import random
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from jwt_scoped import rules
from jwt_scoped.modes import JWT_AUTHORIZATION, NO_AUTHORIZATION
from jwt_scoped.route_keys import DEFAULT_ROUTE, parse_route_key, select_route
from jwt_scoped.rules import DEFAULT_STAGE

from . import access_log
from . import cors as cors_rules
from . import jwt_authorizer as jwt_rules
from .apis import Api, Authorizer, Integration, LocalApis, Route, Stage
from .arns import integration_function
from .lambdas import REQUEST_TOO_LARGE, CallerTimeout, FunctionSpec, LambdaError, LocalLambda
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
SELECTED_ROUTES = 4096
"""(method, path) pairs whose route selection the gateway remembers."""
# The access log's integrationErrorMessage when API Gateway may not invoke the function (AWS
# re:Post knowledge center, "api-gateway-http-lambda-integrations").
NO_PERMISSION = ("The IAM role configured on the integration or API Gateway doesn't have "
                 "permissions to call the integration. Check the permissions and try again.")
FUNCTION_ERROR = ("The Lambda function returned the following error: {message}. Check your Lambda "
                  "function code and try again.")
MALFORMED = ("The response from the Lambda function doesn't match the format that API Gateway "
             "expects. {detail}")
CLAIM_VARIABLES = "authorizer.claims."
_HOP_BY_HOP = frozenset(("content-length", "connection", "transfer-encoding"))
_NO_QUERY: Mapping[str, str] = {}
_ids = random.Random()  # noqa: S311 -- request ids, not secrets (seeded from os.urandom)


def gateway_error(status: int, headers: list[tuple[str, str]] | None = None) -> HttpAnswer:
    """One of API Gateway's own JSON answers: ``{"message":"Not Found"}`` and the like."""
    body = f'{{"message":"{MESSAGES[status]}"}}'.encode()
    return HttpAnswer(status, [("content-type", "application/json"), *(headers or [])], body)


def new_request_id() -> str:
    """Shaped like API Gateway's ``apigw-requestid`` (``Mc7UVioPPHcEKPA=``): 10 random bytes in
    base64 (from a generator seeded once, not a system call per request)."""
    return binascii.b2a_base64(_ids.getrandbits(80).to_bytes(10, "big"), newline=False).decode()


def source_arn(api: Api, stage: str, method: str, route_key: str) -> str:
    """The ARN API Gateway invokes a route's function from: ``<executionArn>/<stage>/<METHOD>
    <path>``, or ``.../<stage>/$default`` for the ``$default`` route (what a resource policy's
    ``SourceArn`` is compared with)."""
    if route_key == DEFAULT_ROUTE:
        return f"{api.execution_arn}/{stage}/{DEFAULT_ROUTE}"
    route = parse_route_key(route_key)
    verb = "*" if route.method == "ANY" else method
    return f"{api.execution_arn}/{stage}/{verb}{route.path}"


class _Signed:
    """What the gateway remembers of a token: the signature check's verdict, the token's scopes
    (as a list for the event, as a set to match routes against), and the event's
    ``requestContext.authorizer`` as JSON once one was sent (the same for every request with
    this token)."""

    __slots__ = ("verdict", "scopes", "scope_set", "authorizer_json", "header")

    def __init__(self, verdict: jwt_rules.Verdict, scopes: list[str]):
        self.verdict, self.scopes, self.scope_set = verdict, scopes, frozenset(scopes)
        self.authorizer_json: bytes | None = None
        self.header: tuple[str, bytes] | None = None
        """The identity source's header as it came (the token, ``Bearer`` and all), and as JSON."""


# Stand in the event for parts sent as JSON made earlier: lone surrogates, which nothing a
# request carries can decode to (headers and paths are Latin-1, bodies and query strings UTF-8).
_AUTHORIZER = "\udfff requestContext.authorizer \udfff"
_AUTHORIZER_JSON = json.dumps(_AUTHORIZER).encode()
_HEADER = "\udfff token header \udfff"
_HEADER_JSON = json.dumps(_HEADER).encode()


class _Variables(dict):
    """One request's ``$context`` variables for the access log; ``authorizer.claims.<name>`` is
    looked up in the token's claims (``claims``) when the line is written, not copied for every
    claim of every request."""

    claims: Mapping[str, str] | None = None

    def get(self, name: str, default: Any = None) -> Any:
        if name in self:
            return self[name]
        if self.claims is not None and name.startswith(CLAIM_VARIABLES):
            return self.claims.get(name[len(CLAIM_VARIABLES):], default)
        return default


_escaped = json.encoder.encode_basestring_ascii  # what json.dumps does to a str, less the call


_MISSING = object()


@functools.lru_cache(maxsize=16)
def _log_parts(log_format: str) -> tuple[tuple[str, str | None, str | None], ...]:
    """``access_log``'s own parse of the format, each variable with the claim it names."""
    return tuple((literal, name, name[len(CLAIM_VARIABLES):]
                  if name is not None and name.startswith(CLAIM_VARIABLES) else None)
                 for literal, name in access_log._parts(log_format))


def log_line(log_format: str, variables: _Variables) -> str:
    """``access_log.render(log_format, variables)``, the same text for less work: the format is
    parsed by ``access_log`` once, and each value escaped by the JSON encoder's C function that
    ``access_log``'s ``json.dumps(str(value))[1:-1]`` comes to (``-`` for no value)."""
    claims = variables.claims
    out = []
    for literal, name, claim in _log_parts(log_format):
        out.append(literal)
        if name is None:
            continue
        value = dict.get(variables, name, _MISSING)
        if value is _MISSING:
            value = claims.get(claim) if claim is not None and claims is not None else None
        out.append("-" if value is None or value == "" else _escaped(str(value))[1:-1])
    return "".join(out)


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
        self._select = functools.lru_cache(maxsize=SELECTED_ROUTES)(
            lambda method, path: select_route(method, path, route_keys))
        # Named stages first: /Test/... belongs to "Test" even when a $default stage exists.
        self.stages: list[Stage] = sorted(apis.stages_of(api.id),
                                          key=lambda s: s.name == DEFAULT_STAGE)
        self._prefixes = [(s, s.path_prefix, s.path_prefix + "/") for s in self.stages]
        self.authorizers = {a.id: a for a in apis.authorizers.values() if a.api_id == api.id}
        self.integrations = {i.id: i for i in apis.integrations.values() if i.api_id == api.id}
        self.lambdas = lambdas
        self.keys = keys
        # A token's signature is checked once (the keys never change while serving), and its
        # claims written as the payload's strings then.
        self._signed = functools.lru_cache(maxsize=SIGNED_TOKENS)(self._check_signature)

        self.log = log
        self.clock = clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()
        # Worked out once per integration, route and stage (what the program registered does
        # not change while serving; a permission or function added later is seen).
        self._functions: dict[str, tuple[int, FunctionSpec | None]] = {}
        self._source_arns: dict[tuple[str, str, str], str] = {}
        self._allowed: dict[tuple[str, str], tuple[int, bool]] = {}

    def _check_signature(self, token: str, issuer: str) -> _Signed:
        verdict = jwt_rules.signed_claims(token, issuer, self.keys)
        scopes = jwt_rules.token_scopes(verdict.claims) if verdict.claims is not None else []
        return _Signed(verdict, scopes)

    # -- the pipeline --

    async def handle(self, request: Request) -> HttpAnswer:
        started = time.perf_counter()
        now_ms = int(self.clock() * 1000)
        headers = joined_headers(request.headers)
        request_id = new_request_id()
        variables = _Variables(requestId=request_id, routeKey="-")
        found = self._stage_for(request.raw_path)
        stage = found[0] if found else None
        if stage is not None:
            variables["stage"] = stage.name
        answer = self.intercept(request) if self.intercept is not None else None
        if answer is None:
            answer = await self._answer(request, headers, found, variables, now_ms)
        if self.api.cors is not None and "preflight" not in variables:
            answer = HttpAnswer(answer.status, cors_rules.without_cors_headers(answer.headers)
                                + cors_rules.response_headers(self.api.cors, headers), answer.body)
        answer = HttpAnswer(answer.status, [*answer.headers, ("apigw-requestid", request_id)],
                            answer.body)
        if stage is not None and stage.log_format and self.log is not None:
            variables.update({
                "extendedRequestId": request_id, "requestTime": request_time(now_ms),
                "requestTimeEpoch": now_ms, "httpMethod": request.method,
                "path": request.raw_path, "protocol": request.protocol,
                "identity.sourceIp": request.source_ip,
                "identity.userAgent": headers.get("user-agent"), "apiId": self.api.id,
                "accountId": self.account, "domainName": headers.get("host"),
                "status": answer.status, "responseLength": len(answer.body),
                "responseLatency": int((time.perf_counter() - started) * 1000)})
            self.log(log_line(stage.log_format, variables))
        return answer

    def _stage_for(self, raw_path: str) -> tuple[Stage, str] | None:
        for stage, prefix, below in self._prefixes:
            if not prefix:
                return stage, raw_path or "/"
            if raw_path == prefix or raw_path.startswith(below):
                return stage, raw_path[len(prefix):] or "/"
        return None

    async def _answer(self, request: Request, headers: dict[str, str], found,
                      variables: _Variables, now_ms: int) -> HttpAnswer:
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
        signed: _Signed | None = None
        if route.authorization_type == JWT_AUTHORIZATION:
            signed, problem = self._authorize(route, request, headers)
            if signed is None:
                variables["authorizer.error"] = problem
                if problem is None:  # the route names no JWT authorizer of this API
                    return gateway_error(500)
                return HttpAnswer(401, [("content-type", "application/json"),
                                        ("www-authenticate", jwt_rules.challenge(problem))],
                                  b'{"message":"Unauthorized"}')
            variables.claims = signed.verdict.claim_text
            # jwt_rules.scopes_admit: none on the route, or one of them in the token
            if route.scopes and signed.scope_set.isdisjoint(route.scopes):
                return gateway_error(403)
        elif route.authorization_type != NO_AUTHORIZATION:
            # AWS_IAM (SigV4) and CUSTOM (Lambda) authorizers are not modelled: refuse.
            variables["authorizer.error"] = (f"authorization type {route.authorization_type} is "
                                             "not supported by the sandbox")
            return gateway_error(403)
        return await self._integrate(stage, route, match.path_parameters, request, headers, signed,
                                     variables, now_ms)

    def _bucket(self, stage: Stage, route_key: str) -> TokenBucket:
        key = (stage.name, route_key)
        bucket = self._buckets.get(key)
        if bucket is None:
            with self._lock:
                bucket = self._buckets.get(key)
                if bucket is None:
                    limit = stage.default_throttle
                    bucket = (TokenBucket(limit.burst, limit.rate) if limit is not None
                              else TokenBucket(float("inf"), float("inf")))
                    self._buckets[key] = bucket
        return bucket

    def _authorize(self, route: Route, request: Request,
                   headers: dict[str, str]) -> tuple[_Signed | None, str | None]:
        """(what is known of the valid token, None), or (None, why it is refused); (None,
        None) when the route has no JWT authorizer of this API. ``jwt_rules.verify``, with the
        signature check remembered."""
        authorizer: Authorizer | None = self.authorizers.get(route.authorizer_id or "")
        if authorizer is None or authorizer.type != JWT_AUTHORIZATION or not authorizer.identity_sources:
            return None, None
        source = authorizer.identity_sources[0]
        query = (query_parameters(request.raw_query) if source.startswith("$request.querystring.")
                 else _NO_QUERY)
        token = jwt_rules.token_from(source, headers, query)
        if token is None:
            return None, jwt_rules.MISSING.format(source=jwt_rules.identity_source_name(source))
        signed = self._signed(token, authorizer.issuer or "")
        if signed.verdict.claims is None:
            return None, signed.verdict.error
        problem = jwt_rules.claims_problem(signed.verdict.claims, authorizer, self.clock())
        return (None, problem) if problem else (signed, None)

    def _token_header(self, route: Route) -> str | None:
        """The header (lower-case) the route's token comes in, if it comes in one."""
        authorizer = self.authorizers.get(route.authorizer_id or "")
        if authorizer is None or not authorizer.identity_sources:
            return None
        kind, _, name = authorizer.identity_sources[0].removeprefix("$request.").partition(".")
        return name.lower() if kind == "header" and name else None

    def _function(self, integration: Integration) -> FunctionSpec | None:
        """The function an ``AWS_PROXY`` integration invokes, if this sandbox has it."""
        generation = len(self.lambdas.functions)
        known = self._functions.get(integration.id)
        if known is None or known[0] != generation:
            spec = (self.lambdas.find(integration_function(integration.uri))
                    if integration.type == "AWS_PROXY" else None)
            known = self._functions[integration.id] = (generation, spec)
        return known[1]

    def _may_invoke(self, spec: FunctionSpec, stage: Stage, method: str, route_key: str) -> bool:
        """Whether the function's resource policy lets API Gateway invoke it from this route."""
        arn = self._source_arns.get((stage.name, method, route_key))
        if arn is None:
            arn = self._source_arns[(stage.name, method, route_key)] = source_arn(
                self.api, stage.name, method, route_key)
        generation = len(self.lambdas.permissions)
        known = self._allowed.get((spec.name, arn))
        if known is None or known[0] != generation:
            known = self._allowed[(spec.name, arn)] = (
                generation, self.lambdas.allows(spec, APIGATEWAY_PRINCIPAL, arn, self.account))
        return known[1]

    def _encoded(self, event: dict, signed: _Signed | None, source: str | None) -> bytes:
        """``LocalLambda.encode(event)``, with what comes of the token encoded once per token:
        the authorizer's part (its claims, about a third of the event) and the header it came
        in (``source``, another third)."""
        encode = self.lambdas.encode
        if signed is None:
            return encode(event)
        request_context, headers = event["requestContext"], event["headers"]
        authorizer = request_context["authorizer"]
        if signed.authorizer_json is None:
            signed.authorizer_json = encode(authorizer)
        value = headers.get(source) if source is not None else None
        if value is not None and (signed.header is None or signed.header[0] != value):
            signed.header = (value, encode(value))
        request_context["authorizer"] = _AUTHORIZER
        if value is not None:
            headers[source] = _HEADER
        try:
            payload = encode(event).replace(_AUTHORIZER_JSON, signed.authorizer_json, 1)
            return payload if value is None else payload.replace(_HEADER_JSON, signed.header[1], 1)
        finally:
            request_context["authorizer"] = authorizer
            if value is not None:
                headers[source] = value

    async def _integrate(self, stage: Stage, route: Route, path_parameters: dict, request: Request,
                         headers: dict[str, str], signed: _Signed | None, variables: _Variables,
                         now_ms: int) -> HttpAnswer:
        integration = self.integrations.get(route.integration_id or "")
        if integration is None:
            variables["integrationErrorMessage"] = "The route has no integration."
            return gateway_error(500)
        spec = self._function(integration)
        if spec is None:
            variables["integrationErrorMessage"] = (
                f"Integration {integration.id} ({integration.type} {integration.uri}) names no "
                "function of this sandbox.")
            return gateway_error(500)
        if not self._may_invoke(spec, stage, request.method, route.key):
            variables["integrationErrorMessage"] = NO_PERMISSION
            return gateway_error(500)
        if integration.payload_format != PAYLOAD_FORMAT:
            variables["integrationErrorMessage"] = (
                f"payload format {integration.payload_format} is not served by the sandbox")
            return gateway_error(500)
        context = Context(
            api_id=self.api.id, account=self.account,
            domain_name=headers.get("host") or self.api.endpoint.split("//")[-1],
            stage=stage.name, route_key=route.key, request_id=variables["requestId"],
            time_epoch_ms=now_ms,
            path_parameters={k: unquote(v) for k, v in path_parameters.items()}
            if path_parameters else {},
            claims=signed.verdict.claim_text if signed is not None else None,
            scopes=signed.scopes if signed is not None else None)
        event = event_v2(request, context, headers)
        limit = integration.timeout_ms / 1000
        started = time.perf_counter()
        try:
            payload = self._encoded(event, signed, self._token_header(route))
            result = await self.lambdas.invoke_async(spec, event, timeout=limit, payload=payload)
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
    Gateway's JSON answers, and the connection closed:

    - a request line and header values over the hard quota (431, as API Gateway answers it:
      Backbencher.dev, "SOLVED: 431 Status Code With Request Header Fields Too Large");
    - a body over the payload quota (413): at once when its ``Content-Length`` says so, else
      once that much of a chunked body has come;
    - a request without exactly one ``Host`` (none is allowed in HTTP/1.0), of an HTTP version
      other than 1.0 and 1.1, or with both ``Content-Length`` and ``Transfer-Encoding`` (400:
      the framing a request smuggler relies on; RFC 9112, 6.3, lets a server refuse it and
      says to close the connection after it)."""

    def __init__(self, gateway: Gateway):
        self.gateway = gateway

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        headers = scope["headers"]
        version = scope["http_version"]
        method = scope["method"]
        query = scope["query_string"]
        raw_path = scope["raw_path"]
        # head_bytes(), and the headers' framing, in one pass
        size = len(method) + len(raw_path) + (len(query) + 1 if query else 0) + 7 + len(version)
        hosts, length, chunked = 0, None, False
        for name, value in headers:
            size += len(value)
            if name == b"host":
                hosts += 1
            elif name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
        if size > rules.MAX_REQUEST_LINE_AND_HEADERS_BYTES:
            return await self._send(send, gateway_error(431), close=True)
        if (version not in ("1.1", "1.0") or hosts > 1 or (hosts == 0 and version != "1.0")
                or (chunked and length is not None)):
            return await self._send(send, gateway_error(400), close=True)
        if length is not None and int(length) > MAX_PAYLOAD_BYTES:  # h11 checked it is digits
            return await self._send(send, gateway_error(413), close=True)
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body = message.get("body", b"")
        if message.get("more_body"):
            parts = bytearray(body)
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                parts += message.get("body", b"")
                if len(parts) > MAX_PAYLOAD_BYTES:
                    return await self._send(send, gateway_error(413), close=True)
                if not message.get("more_body"):
                    break
            body = bytes(parts)
        elif len(body) > MAX_PAYLOAD_BYTES:
            return await self._send(send, gateway_error(413), close=True)
        request = Request(method=method, raw_path=raw_path.decode("latin-1"),
                          raw_query=query.decode("latin-1"),
                          headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers],
                          body=body, source_ip=(scope.get("client") or ("", 0))[0],
                          protocol="HTTP/1.1" if version == "1.1" else f"HTTP/{version}")
        try:
            answer = await self.gateway.handle(request)
        except Exception:  # noqa: BLE001 -- a sandbox bug: answer as API Gateway would, and say so
            traceback.print_exc()
            answer = gateway_error(500)
        await self._send(send, answer, head=method == "HEAD")

    @staticmethod
    async def _send(send, answer: HttpAnswer, close: bool = False, head: bool = False) -> None:
        headers = []
        for name, value in answer.headers:
            name = name.lower()
            if name not in _HOP_BY_HOP:
                headers.append((name.encode("latin-1"), value.encode("latin-1")))
        headers.append((b"content-length", str(len(answer.body)).encode()))
        if close:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else answer.body})
