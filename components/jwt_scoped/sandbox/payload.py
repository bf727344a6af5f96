"""What an HTTP API's Lambda proxy integration sends the function and makes of its answer. Pure.

Source: API Gateway developer guide, "Create AWS Lambda proxy integrations for HTTP APIs"
(payload format version 2.0, the one ``ScopedHttpApi`` sets, and "Lambda function response
format"); an integration of format 1.0 is served as unsupported (``sandbox.warnings``).

Format 2.0: ``version``, ``routeKey``, ``rawPath`` (with the stage's prefix), ``rawQueryString``,
``cookies``, ``headers`` (lower-case names, repeated headers joined by commas),
``queryStringParameters`` (repeated ones joined by commas), ``requestContext`` (``accountId``,
``apiId``, ``authorizer.jwt.claims``/``scopes``, ``domainName``, ``domainPrefix``, ``http``,
``requestId``, ``routeKey``, ``stage``, ``time``, ``timeEpoch``), ``body``, ``pathParameters``,
``isBase64Encoded``; absent parts are left out. The answer: a dict with
``statusCode`` is the response (``headers``, ``cookies``, ``body``, ``isBase64Encoded``); any
other JSON value is a 200 with content-type ``application/json`` and that value as the body.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

# Content types whose bodies the integration passes as text; anything else is base64.
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript",
               "application/x-www-form-urlencoded", "+json", "+xml")


class MalformedResponse(ValueError):
    """An answer API Gateway cannot turn into an HTTP response (a 500)."""


@dataclass(frozen=True)
class Request:
    """One HTTP request as it reached the stage."""

    method: str
    raw_path: str
    raw_query: str
    headers: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"


@dataclass(frozen=True)
class Context:
    """What API Gateway knows of the request when it calls the integration."""

    api_id: str
    account: str
    domain_name: str
    stage: str
    route_key: str
    request_id: str
    time_epoch_ms: int
    path_parameters: Mapping[str, str] = field(default_factory=dict)
    claims: Mapping[str, str] | None = None
    """The JWT's claims (as strings) on a JWT route; ``None`` on a public route."""
    scopes: Sequence[str] | None = None


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def joined_headers(headers: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Lower-case names; repeated headers joined by commas."""
    out: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        out[key] = f"{out[key]},{value}" if key in out else value
    return out


def query_parameters(raw_query: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        out[name] = f"{out[name]},{value}" if name in out else value
    return out


def request_time(epoch_ms: int) -> str:
    """``12/Mar/2020:19:03:58 +0000``: the format of ``requestContext.time`` and the access log."""
    return _second(epoch_ms // 1000)


@functools.lru_cache(maxsize=4)
def _second(epoch_seconds: int) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _body(request: Request, headers: Mapping[str, str]) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    content_type = headers.get("content-type", "").lower()
    if any(t in content_type for t in _TEXT_TYPES):
        try:
            return request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(request.body).decode(), True


def event_v2(request: Request, context: Context,
             headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The event; ``headers``: the request's ``joined_headers``, when the caller has them."""
    headers = joined_headers(request.headers) if headers is None else dict(headers)
    cookie = headers.pop("cookie", None)
    body, encoded = _body(request, headers)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": context.route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookie:
        event["cookies"] = [c.strip() for c in cookie.replace(",", ";").split(";") if c.strip()]
    event["headers"] = headers
    if request.raw_query:
        event["queryStringParameters"] = query_parameters(request.raw_query)
    request_context: dict[str, Any] = {
        "accountId": context.account,
        "apiId": context.api_id,
        "domainName": context.domain_name,
        "domainPrefix": context.domain_name.split(".")[0],
        "http": {"method": request.method, "path": request.raw_path,
                 "protocol": request.protocol, "sourceIp": request.source_ip,
                 "userAgent": headers.get("user-agent", "")},
        "requestId": context.request_id,
        "routeKey": context.route_key,
        "stage": context.stage,
        "time": request_time(context.time_epoch_ms),
        "timeEpoch": context.time_epoch_ms,
    }
    if context.claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": dict(context.claims),
                                                 "scopes": list(context.scopes)
                                                 if context.scopes else None}}
    event["requestContext"] = request_context
    if body is not None:
        event["body"] = body
    if context.path_parameters:
        event["pathParameters"] = dict(context.path_parameters)
    event["isBase64Encoded"] = encoded
    return event


def _status(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise MalformedResponse(f"statusCode {value!r} is not an HTTP status")
    return value


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise MalformedResponse(f"header value {value!r} is not a string")


def _decoded(body: Any, encoded: Any) -> bytes:
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedResponse("body is not a string")
    if encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedResponse("body is not valid base64") from None
    return body.encode("utf-8")


def response_v2(result: Any) -> HttpAnswer:
    """The HTTP response for a function's answer (format 2.0)."""
    if not (isinstance(result, dict) and "statusCode" in result):
        body = result if isinstance(result, str) else json.dumps(result)
        return HttpAnswer(200, [("content-type", "application/json")], body.encode("utf-8"))
    headers = {} if result.get("headers") is None else result["headers"]
    cookies = [] if result.get("cookies") is None else result["cookies"]
    if not isinstance(headers, dict):
        raise MalformedResponse("headers is not an object")
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        raise MalformedResponse("cookies is not a list of strings")
    out = [(str(k).lower(), _header_value(v)) for k, v in headers.items()]
    out += [("set-cookie", c) for c in cookies]
    return HttpAnswer(_status(result["statusCode"]), out,
                      _decoded(result.get("body"), result.get("isBase64Encoded")))
