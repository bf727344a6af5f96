"""Call one route of the deployed API, retrying while a fresh stage settles.

Right after ``pulumi up`` an auto-deployed stage can answer 404 for a route it does not serve yet,
5xx while the integration warms up, or not at all. ``call`` retries those a bounded number of
times with doubling sleeps (``RetryPolicy``), then reports the last status, or raises
``Unreachable`` when no answer ever came.
"""

from __future__ import annotations

import http.client
import re
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

RETRY_STATUSES = frozenset({404, 429, 500, 502, 503, 504})
_ERROR_DESCRIPTION = re.compile(r'error_description="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    """Tries per request, the first included."""
    backoff: float = 1.0
    """Sleep before the second try, doubled before each next one ..."""
    max_sleep: float = 8.0
    """... up to this."""
    timeout: float = 10.0
    """Seconds to wait for each answer."""

    def sleeps(self) -> list[float]:
        """The sleeps between tries: ``attempts - 1`` of them."""
        return [min(self.backoff * 2 ** i, self.max_sleep) for i in range(max(0, self.attempts - 1))]


@dataclass(frozen=True)
class Answer:
    status: int
    www_authenticate: str | None
    body: str
    allow_origin: str | None = None
    """``Access-Control-Allow-Origin``: what CORS granted the request's ``Origin``."""


class Unreachable(Exception):
    """No answer at all (refused, unresolvable, timed out) after every try."""


def should_retry(status: int | None) -> bool:
    """``None`` is no answer at all."""
    return status is None or status in RETRY_STATUSES


def error_description(www_authenticate: str | None) -> str | None:
    """The reason in ``Bearer scope="" error="invalid_token" error_description="..."``."""
    if not www_authenticate:
        return None
    match = _ERROR_DESCRIPTION.search(www_authenticate)
    return re.sub(r"\\(.)", r"\1", match.group(1)) if match else None


def authorization_value(token: str | None) -> str | None:
    """API Gateway takes the token bare or after ``Bearer ``; send the standard form."""
    return None if token is None else f"Bearer {token}"


def send(url: str, method: str, token: str | None, timeout: float,
         headers: Mapping[str, str] | None = None) -> Answer:
    """One request; connection problems raise ``OSError`` or ``http.client.HTTPException``."""
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"not an http(s) URL: {url!r}")
    sent = {"User-Agent": "jwt-scoped-api-access-verify", **(headers or {})}
    if token is not None:
        sent["Authorization"] = authorization_value(token)
    request = urllib.request.Request(url, method=method, headers=sent)  # noqa: S310 -- http(s) only, checked above
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return _answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return _answer(error.code, error.headers, error.read())


def _answer(status: int, headers, body: bytes) -> Answer:
    return Answer(status, headers.get("www-authenticate"), body.decode("utf-8", "replace"),
                  headers.get("access-control-allow-origin"))


def call(url: str, method: str, token: str | None, policy: RetryPolicy,
         headers: Mapping[str, str] | None = None) -> Answer:
    """The first answer worth keeping, else the last one; ``Unreachable`` if none came."""
    sleeps = policy.sleeps()
    last_answer: Answer | None = None
    last_error: Exception | None = None
    for attempt in range(max(1, policy.attempts)):
        try:
            answer = send(url, method, token, policy.timeout, headers)
        except (OSError, http.client.HTTPException) as error:  # URLError is an OSError
            last_error = error
        else:
            if not should_retry(answer.status):
                return answer
            last_answer = answer
        if attempt < len(sleeps):
            time.sleep(sleeps[attempt])
    if last_answer is not None:
        return last_answer
    reason = getattr(last_error, "reason", last_error)
    raise Unreachable(f"cannot reach {url}: {reason} (after {policy.attempts} "
                      f"tr{'y' if policy.attempts == 1 else 'ies'})")
