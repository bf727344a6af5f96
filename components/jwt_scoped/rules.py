"""Pure checks shared by the stack settings and the components: each returns why a value is
invalid, or ``None``. Numbers are AWS quotas and limits; each carries its source. The checks
with a number in them are small objects (``WholeRange``, ``Text``, ``Name``, ``OneOf``) that
also say their limits in words, for the generated config reference: a number is written here
once, never again in a docstring."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .modes import TokenUse, choice_problem

# API Gateway quotas for HTTP APIs ("Amazon API Gateway quotas", HTTP API section).
MAX_SCOPES_PER_ROUTE = 10  # hard: authorization scopes per route
MAX_AUDIENCES = 50  # hard: audiences per JWT authorizer
MAX_ROUTES_PER_API = 300  # default, raisable
MAX_AUTHORIZERS_PER_API = 10
MAX_REQUEST_LINE_AND_HEADERS_BYTES = 10_240  # hard: request line and header values
SCOPES_QUOTA = f"API Gateway allows at most {MAX_SCOPES_PER_ROUTE} scopes per route (hard quota)"
ROUTES_QUOTA = f"an HTTP API holds at most {MAX_ROUTES_PER_API} routes (a quota AWS can raise)"
AUDIENCES_QUOTA = f"a JWT authorizer takes at most {MAX_AUDIENCES} audiences (hard quota)"

# The AWS service principals that invoke Lambda functions here (Lambda resource-based policies).
APIGATEWAY_PRINCIPAL = "apigateway.amazonaws.com"
COGNITO_PRINCIPAL = "cognito-idp.amazonaws.com"
LAMBDA_PRINCIPAL = "lambda.amazonaws.com"  # assumes a function's execution role

# Log groups whose names start here take vended logs (API Gateway access logs among them) without
# growing the account's CloudWatch Logs resource policy, which is capped at 5,120 characters and
# never pruned (CloudWatch Logs user guide, "Enabling logging from AWS services").
VENDED_LOGS_PREFIX = "/aws/vendedlogs/"

# Lambda CreateFunction limits: Description 0-256 characters, Timeout 1-900 s, MemorySize
# 128-10,240 MB.
LAMBDA_DESCRIPTION_MAX = 256
LAMBDA_TIMEOUT_RANGE = (1, 900)
LAMBDA_MEMORY_RANGE = (128, 10_240)

# Cognito CreateGroup: Description at most 2048 characters; Precedence a non-negative integer.
GROUP_DESCRIPTION_MAX = 2048
GROUP_PRECEDENCE_RANGE = (0, 2**31 - 1)

# Cognito GroupName/Username allow most printable Unicode; we accept a portable subset because a
# group name becomes an OAuth scope token (RFC 6749 3.3: no spaces, quotes or backslashes), part
# of a Pulumi resource name, and a word in the space-separated `scope` claim.
NAME_MAX = 128
_NAME = re.compile(rf"^[A-Za-z0-9._@+=-]{{1,{NAME_MAX}}}$")
NAME_RULE = f"1-{NAME_MAX} characters from letters, digits and . _ @ + = -"

# API Gateway's name for the catch-all route and for the stage served at the API's root URL
# ("Working with routes for HTTP APIs", "Working with stages for HTTP APIs").
DEFAULT = "$default"
DEFAULT_STAGE = DEFAULT
# HTTP API stage names: "alphanumerics, hyphens and underscores, or $default; at most 128".
_STAGE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")

# Cognito prefix domain: CloudFormation AWS::Cognito::UserPoolDomain Domain pattern; the console
# also refuses the reserved words aws, amazon and cognito in a prefix. A default prefix ends in
# this many random characters (a prefix is unique per region).
DOMAIN_SUFFIX_LENGTH = 8
_DOMAIN_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
RESERVED_DOMAIN_WORDS = ("aws", "amazon", "cognito")

# CloudWatch Logs PutRetentionPolicy retentionInDays allowed values, and the components' default.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                      1827, 2192, 2557, 2922, 3288, 3653)
DEFAULT_LOG_RETENTION_DAYS = 30

# Cognito app client token validity ("Using tokens": ID/access 5 minutes to 1 day,
# refresh 60 minutes to 10 years; we take refresh in whole days).
TOKEN_MINUTES_RANGE = (5, 1440)
REFRESH_DAYS_RANGE = (1, 3650)
# Cognito quotas: callback URLs and sign-out URLs per app client ("Quotas in Amazon Cognito",
# 100 each).
MAX_CALLBACK_URLS = 100
MAX_LOGOUT_URLS = 100
CALLBACK_URLS_WHY = (f"the code flow needs one, and Cognito takes at most {MAX_CALLBACK_URLS} "
                     "per app client")
LOGOUT_URLS_WHY = f"Cognito takes at most {MAX_LOGOUT_URLS} sign-out URLs per app client"
# Cognito app clients and resource servers: "Quotas in Amazon Cognito" (resource servers per user
# pool 25; custom scopes per resource server 100; app clients per user pool 1,000) and the API
# reference (ResourceServerType: Identifier 1-256 of [\x21\x23-\x5B\x5D-\x7E];
# ResourceServerScopeType: ScopeName 1-256 of [\x21\x23-\x2E\x30-\x5B\x5D-\x7E];
# UserPoolClientType: AllowedOAuthScopes at most 50).
MAX_RESOURCE_SERVERS = 25
MAX_SCOPES_PER_RESOURCE_SERVER = 100
MAX_APP_CLIENTS = 1000
MAX_CLIENT_OAUTH_SCOPES = 50
RESOURCE_SERVERS_WHY = f"Cognito allows at most {MAX_RESOURCE_SERVERS} resource servers per user pool"
RESOURCE_SCOPES_WHY = (f"Cognito allows at most {MAX_SCOPES_PER_RESOURCE_SERVER} scopes per "
                       "resource server")
APP_CLIENTS_WHY = f"Cognito allows at most {MAX_APP_CLIENTS} app clients per user pool"
CLIENT_SCOPES_WHY = f"Cognito allows at most {MAX_CLIENT_OAUTH_SCOPES} OAuth scopes per app client"
_RESOURCE_SERVER_ID = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]{1,256}$")
_RESOURCE_SCOPE_NAME = re.compile(r"^[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]{1,256}$")
SCOPE_SEPARATOR = "/"  # a resource server's scope in a token: <identifier>/<scope name>

# CORS allowOrigins of an HTTP API: we accept up to this many (each is one header value to match).
MAX_CORS_ORIGINS = 100

# Stage default-route throttling bounds we accept: API Gateway's default account quota is
# 10,000 requests per second with a burst of 5,000 ("Amazon API Gateway quotas").
THROTTLING_BURST_RANGE = (0, 5000)
THROTTLING_RATE_RANGE = (0, 10_000)


def name_problem(kind: str, value: object) -> str | None:
    """Group names and usernames: ``kind`` is the word used in the message."""
    if not isinstance(value, str):
        return f"{kind} must be a string, got {value!r}"
    if not _NAME.match(value):
        return f"{kind} {value!r} is invalid: use {NAME_RULE}"
    return None


def stage_name_problem(value: object) -> str | None:
    if value == DEFAULT_STAGE:
        return None
    if not isinstance(value, str) or not _STAGE.match(value):
        return (f"stage name {value!r} is invalid: use {DEFAULT_STAGE!r} or 1-128 letters, "
                "digits, hyphens and underscores")
    return None


def domain_prefix_problem(value: object) -> str | None:
    if not isinstance(value, str) or not _DOMAIN_PREFIX.match(value):
        return (f"domain prefix {value!r} is invalid: use 1-63 lowercase letters, digits and "
                "hyphens, not starting or ending with a hyphen")
    for word in RESERVED_DOMAIN_WORDS:
        if word in value:
            return f"domain prefix {value!r} contains the reserved word {word!r}"
    return None


def _redirect_url_problem(kind: str, value: object) -> str | None:
    """Cognito's rule for the URLs it redirects to ("App client settings": callback and sign-out
    URLs): absolute, no fragment, HTTPS unless the host is localhost."""
    if not isinstance(value, str):
        return f"{kind} must be a string, got {value!r}"
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"{kind} {value!r} is not an absolute http(s) URL"
    if parts.fragment:
        return f"{kind} {value!r} must not contain a fragment"
    if parts.scheme == "http" and parts.hostname != "localhost":
        return f"{kind} {value!r} must use https (http is allowed for localhost only)"
    return None


def callback_url_problem(value: object) -> str | None:
    """A callback URL (where the hosted UI sends the browser back with a code)."""
    return _redirect_url_problem("callback URL", value)


def logout_url_problem(value: object) -> str | None:
    """A sign-out URL (where ``/logout`` may send the browser), by the callback URLs' rule."""
    return _redirect_url_problem("sign-out URL", value)


@dataclass(frozen=True)
class Pattern:
    """A string matching ``pattern``, ``rule`` in words."""

    what: str
    pattern: re.Pattern
    rule: str
    example: str

    def __call__(self, value: object) -> str | None:
        if not isinstance(value, str) or not self.pattern.match(value):
            return f"{self.what} {value!r} is invalid: use {self.rule} ({self.example})"
        return None

    @property
    def limits(self) -> str:
        return self.rule


resource_server_identifier_problem = Pattern(
    "resource server identifier", _RESOURCE_SERVER_ID,
    "1-256 printable ASCII characters without spaces, quotes or backslashes",
    "orders, https://api.example.com")
resource_scope_name_problem = Pattern(
    "scope name", _RESOURCE_SCOPE_NAME,
    "1-256 printable ASCII characters without spaces, quotes, slashes or backslashes",
    "read, write")


def resource_scope(identifier: str, scope: str) -> str:
    """The scope a resource server's scope is in tokens: ``orders/read``."""
    return f"{identifier}{SCOPE_SEPARATOR}{scope}"


def cors_origin_problem(value: object) -> str | None:
    """An origin as browsers send it in ``Origin`` (``scheme://host[:port]``), or ``*``; API
    Gateway compares it with the request's ``Origin`` header as is."""
    if value == "*":
        return None
    if not isinstance(value, str):
        return f"CORS origin must be a string, got {value!r}"
    parts = urlsplit(value)
    if parts.scheme in ("https", "http") and parts.hostname and parts.path == "/" \
            and not (parts.query or parts.fragment):
        return (f"CORS origin {value!r} ends with '/', which a browser's Origin header never "
                f"does, so it would never match: use {value.rstrip('/')!r}")
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.path \
            or parts.query or parts.fragment or parts.username or parts.password:
        return f"CORS origin {value!r} is not '*' or scheme://host[:port]"
    return None


def log_retention_problem(value: object) -> str | None:
    if value not in LOG_RETENTION_DAYS or isinstance(value, bool):
        return (f"log retention {value!r} is not a CloudWatch Logs retention; use one of "
                f"{', '.join(map(str, LOG_RETENTION_DAYS))}")
    return None


def token_use_problem(value: object) -> str | None:
    return choice_problem(TokenUse, "token use", value)


def range_problem(what: str, value: object, low: float, high: float) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        return f"{what} {value!r} is out of range {low}-{high}"
    return None


def whole_range_problem(what: str, value: object, low: int, high: int) -> str | None:
    """A whole number within ``low``-``high``."""
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{what} must be a whole number, got {value!r}"
    return range_problem(what, value, low, high)


def text_problem(what: str, value: object, max_length: int) -> str | None:
    if not isinstance(value, str) or len(value) > max_length:
        return f"{what} must be a string of at most {max_length} characters, got {value!r}"
    return None


def suggestion(word: object, options: Collection[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``options``, or nothing."""
    close = difflib.get_close_matches(word, list(options), n=1) if isinstance(word, str) else []
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_group_problem(name: object, known: Collection[str]) -> str | None:
    """A reference to a group that does not exist, with the closest one and the full list."""
    if name in known:
        return None
    return (f"unknown group {name!r}{suggestion(name, known)}; groups are: "
            f"{', '.join(sorted(known)) or '(none)'}")


def boolean_problem(value: object) -> str | None:
    return None if isinstance(value, bool) else f"expected true or false, got {value!r}"


def mapping_problem(value: object) -> str | None:
    """Tags and the like: a mapping of strings to strings."""
    if isinstance(value, Mapping) and all(isinstance(k, str) and isinstance(v, str)
                                          for k, v in value.items()):
        return None
    return f"expected a mapping of strings to strings, got {value!r}"


def issuer_problem(value: object) -> str | None:
    """A JWT authorizer's issuer: an https URL (API Gateway fetches its keys over https)."""
    if not isinstance(value, str):
        return f"issuer must be a string, got {value!r}"
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        return f"issuer {value!r} is not an https URL"
    return None


# ---- checks that say their limits ------------------------------------------------------------

@dataclass(frozen=True)
class WholeRange:
    """A whole number from ``low`` to ``high``."""

    what: str
    low: int
    high: int

    def __call__(self, value: object) -> str | None:
        return whole_range_problem(self.what, value, self.low, self.high)

    @property
    def limits(self) -> str:
        return f"a whole number, {self.low:,} to {self.high:,}"


@dataclass(frozen=True)
class NumberRange:
    """A number from ``low`` to ``high``."""

    what: str
    low: float
    high: float

    def __call__(self, value: object) -> str | None:
        return range_problem(self.what, value, self.low, self.high)

    @property
    def limits(self) -> str:
        return f"a number, {self.low:,} to {self.high:,}"


@dataclass(frozen=True)
class Text:
    """A string of at most ``max_length`` characters."""

    what: str
    max_length: int

    def __call__(self, value: object) -> str | None:
        return text_problem(self.what, value, self.max_length)

    @property
    def limits(self) -> str:
        return f"at most {self.max_length:,} characters"


@dataclass(frozen=True)
class Name:
    """A group name or username (``NAME_RULE``)."""

    kind: str

    def __call__(self, value: object) -> str | None:
        return name_problem(self.kind, value)

    @property
    def limits(self) -> str:
        return NAME_RULE


@dataclass(frozen=True)
class LogRetention:
    """One of CloudWatch Logs' retention values."""

    def __call__(self, value: object) -> str | None:
        return log_retention_problem(value)

    @property
    def limits(self) -> str:
        return f"one of {', '.join(map(str, LOG_RETENTION_DAYS))}"
