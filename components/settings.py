"""Stack config -> validated, typed settings. Pure: no Pulumi, no AWS.

``parse_settings`` takes the project's config values (keys without the ``jwt-scoped-api:``
namespace) and returns :class:`Settings`, or raises :class:`ConfigError` listing every problem at
once, each naming the config key it came from and the bad value. The Pulumi program and the
``access`` tool both call it, so a config is judged the same way everywhere.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import builtin_functions, rules
from .modes import RouteAccess, TokenUse, choice_problem
from .route_keys import route_key_problem
from .specs import GroupSpec, UserSpec

NAMESPACE = "jwt-scoped-api"
_FUNCTION_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


@dataclass(frozen=True)
class RouteSettings:
    """A configured route: its key, the function folder that serves it, who may call it, and
    (for group access) the groups it admits, any one of them."""

    route: str
    function: str
    groups: tuple[str, ...]
    access: RouteAccess = RouteAccess.GROUPS


@dataclass(frozen=True)
class Settings:
    """Everything the program needs from a stack's config, validated. Defaults are documented
    in the README's config reference and ``Pulumi.yaml``."""

    groups: tuple[GroupSpec, ...]
    routes: tuple[RouteSettings, ...]
    users: tuple[UserSpec, ...] = ()
    stage_name: str = rules.DEFAULT_STAGE
    token_use: TokenUse = TokenUse.ID
    callback_urls: tuple[str, ...] = ("http://localhost:3000/callback",)
    domain_prefix: str | None = None
    id_token_validity_minutes: int = 60
    access_token_validity_minutes: int = 60
    refresh_token_validity_days: int = 30
    throttling_burst_limit: int = 100
    throttling_rate_limit: float = 50.0
    cors_origins: tuple[str, ...] = ()
    log_retention_days: int = 30
    protect_user_pool: bool = True

    @property
    def functions(self) -> tuple[str, ...]:
        """Distinct route functions, in order of first use."""
        return tuple(dict.fromkeys(r.function for r in self.routes))


class ConfigError(ValueError):
    """A stack config that cannot be deployed; ``problems`` holds one line per culprit."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid stack config ({len(problems)} problem"
                         f"{'s' if len(problems) != 1 else ''}):\n{lines}")


def split_namespaces(config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Split a stack's config by namespace: (this project's values keyed without the namespace,
    other namespaces' values under their full keys, problems). A key without a namespace is the
    project's, as in Pulumi. A namespace one typo away from the project's (``jwt-scoped-apii``)
    would be silently ignored, so it is a problem naming the key it probably meant."""
    project: dict[str, Any] = {}
    other: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in config.items():
        namespace, sep, name = str(key).partition(":")
        if not sep:
            namespace, name = NAMESPACE, namespace
        if namespace == NAMESPACE:
            project[name] = value
            continue
        if difflib.SequenceMatcher(None, namespace, NAMESPACE).ratio() >= _NAMESPACE_TYPO_RATIO:
            problems.append(f"{key}: namespace {namespace!r} is not this project's; did you mean "
                            f"'{NAMESPACE}:{name}'?")
        other[key] = value
    return project, other, problems


# How alike a namespace must be to the project's to be taken for a typo of it (difflib ratio):
# 0.8 catches one or two wrong, missing or extra characters in "jwt-scoped-api" and leaves
# provider namespaces (aws, random, pulumi) alone.
_NAMESPACE_TYPO_RATIO = 0.8


def decode_config_value(text: str) -> Any:
    """Pulumi hands the program every config value as a string; structured values as JSON.
    Decode JSON where it parses, else keep the string (``Test`` stays ``"Test"``)."""
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


@dataclass
class _Reader:
    """Collects problems while reading; each message is prefixed with its config key."""

    problems: list[str] = field(default_factory=list)

    def bad(self, key: str, message: str) -> None:
        self.problems.append(f"{NAMESPACE}:{key}: {message}")

    def check(self, key: str, problem: str | None) -> bool:
        if problem:
            self.bad(key, problem)
        return problem is None

    def integer(self, key: str, value: Any) -> int | None:
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad(key, f"expected a whole number, got {value!r}")
            return None
        return value

    def number(self, key: str, value: Any) -> float | None:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.bad(key, f"expected a number, got {value!r}")
            return None
        return float(value)

    def boolean(self, key: str, value: Any) -> bool | None:
        if isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if not isinstance(value, bool):
            self.bad(key, f"expected true or false, got {value!r}")
            return None
        return value

    def string_list(self, key: str, value: Any) -> list[str] | None:
        """A list of strings; a single string that is plainly one item counts as a list of it
        (``pulumi config set KEY VALUE`` gives a string). A string that looks like a list is
        refused with the YAML list form: it would otherwise be taken as one odd item."""
        if isinstance(value, str):
            items = _list_items(value)
            if len(items) > 1 or value.strip().startswith("["):
                self.bad(key, f"expected a list, got the single string {value!r}; write a YAML "
                         "list, one item per line:\n      " + f"{NAMESPACE}:{key.split('[')[0]}:"
                         + "".join(f"\n        - {item}" for item in items))
                return None
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.bad(key, f"expected a list of strings, got {value!r}")
            return None
        return value

    def entries(self, key: str, value: Any, allowed: tuple[str, ...],
                required: str) -> list[tuple[str, dict]]:
        """A list of mappings, each with ``required`` and no keys outside ``allowed``."""
        if not isinstance(value, list):
            self.bad(key, f"expected a list, got {value!r}")
            return []
        out = []
        for i, item in enumerate(value):
            where = f"{key}[{i}]"
            if not isinstance(item, dict):
                self.bad(where, f"expected a mapping with {required!r}, got {item!r}")
                continue
            for extra in sorted(set(item) - set(allowed)):
                self.bad(f"{where}.{extra}", f"unknown key{_suggest(extra, allowed)}; "
                         f"allowed: {', '.join(allowed)}")
            if required not in item:
                self.bad(where, f"missing {required!r} in {item!r}")
                continue
            out.append((where, item))
        return out

    def duplicates(self, key: str, what: str, values: list[str]) -> None:
        for value, count in Counter(values).items():
            if count > 1:
                self.bad(key, f"duplicate {what} {value!r} ({count} times)")


def _list_items(text: str) -> list[str]:
    """The items a list-looking string seems to hold: split at commas or whitespace."""
    return [item for item in re.split(r"[\s,]+", text.strip().strip("[]")) if item]


def _suggest(word: str, options: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# key -> (reader, checker) for the scalar and list settings; groups, users and routes follow.
_SCALARS: dict[str, tuple[str, Callable[[_Reader, str, Any], Any]]] = {
    "stageName": ("stage_name",
                  lambda r, k, v: v if r.check(k, rules.stage_name_problem(v)) else None),
    "tokenUse": ("token_use",
                 lambda r, k, v: TokenUse(v) if r.check(k, rules.token_use_problem(v)) else None),
    "domainPrefix": ("domain_prefix",
                     lambda r, k, v: v if r.check(k, rules.domain_prefix_problem(v)) else None),
    "idTokenValidityMinutes": ("id_token_validity_minutes",
                               lambda r, k, v: _ranged_int(r, k, v, rules.TOKEN_MINUTES_RANGE)),
    "accessTokenValidityMinutes": ("access_token_validity_minutes",
                                   lambda r, k, v: _ranged_int(r, k, v, rules.TOKEN_MINUTES_RANGE)),
    "refreshTokenValidityDays": ("refresh_token_validity_days",
                                 lambda r, k, v: _ranged_int(r, k, v, rules.REFRESH_DAYS_RANGE)),
    "throttlingBurstLimit": ("throttling_burst_limit",
                             lambda r, k, v: _ranged_int(r, k, v, rules.THROTTLING_BURST_RANGE)),
    "throttlingRateLimit": ("throttling_rate_limit", lambda r, k, v: _ranged_number(r, k, v)),
    "logRetentionDays": ("log_retention_days", lambda r, k, v: _retention(r, k, v)),
    "protectUserPool": ("protect_user_pool", lambda r, k, v: r.boolean(k, v)),
    "callbackUrls": ("callback_urls",
                     lambda r, k, v: _checked_list(r, k, v, rules.callback_url_problem, 1, 100)),
    "corsOrigins": ("cors_origins",
                    lambda r, k, v: _checked_list(r, k, v, rules.cors_origin_problem, 0, 100)),
}
_COLLECTIONS = ("groups", "users", "routes")
KNOWN_KEYS = tuple(_SCALARS) + _COLLECTIONS


def _ranged_int(r: _Reader, key: str, value: Any, bounds: tuple[int, int]) -> int | None:
    number = r.integer(key, value)
    if number is not None and r.check(key, rules.range_problem("value", number, *bounds)):
        return number
    return None


def _ranged_number(r: _Reader, key: str, value: Any) -> float | None:
    number = r.number(key, value)
    low, high = rules.THROTTLING_RATE_RANGE
    if number is not None and r.check(key, rules.range_problem("value", number, low, high)):
        return number
    return None


def _retention(r: _Reader, key: str, value: Any) -> int | None:
    number = r.integer(key, value)
    if number is not None and r.check(key, rules.log_retention_problem(number)):
        return number
    return None


def _checked_list(r: _Reader, key: str, value: Any, problem: Callable[[Any], str | None],
                  low: int, high: int) -> tuple[str, ...] | None:
    items = r.string_list(key, value)
    if items is None:
        return None
    ok = all([r.check(f"{key}[{i}]", problem(item)) for i, item in enumerate(items)])
    if not low <= len(items) <= high:
        r.bad(key, f"expected {low} to {high} entries, got {len(items)}")
        ok = False
    r.duplicates(key, "entry", items)
    return tuple(items) if ok else None


def _groups(r: _Reader, value: Any) -> tuple[tuple[GroupSpec, ...], set[str] | None]:
    """The valid groups, and every name the config gives a group (a group with a bad
    description is still a known group: routes naming it are not wrong). ``None`` instead of
    names when the groups themselves are unusable, so nothing is judged against them."""
    if not isinstance(value, list):
        r.bad("groups", f"expected a list of {{name, description?, precedence?}}, got {value!r}")
        return (), None
    groups, names = [], []
    for where, item in r.entries("groups", value, ("name", "description", "precedence"), "name"):
        name = item["name"]
        ok = r.check(f"{where}.name", rules.name_problem("group name", name))
        if ok:
            names.append(name)
        description = item.get("description")
        if description is not None and (not isinstance(description, str) or len(description) > 2048):
            ok = r.check(f"{where}.description",
                         f"expected a string of at most 2048 characters, got {description!r}")
        precedence = item.get("precedence")
        if precedence is not None:
            precedence = r.integer(f"{where}.precedence", precedence)
            ok = ok and precedence is not None and r.check(
                f"{where}.precedence", rules.range_problem("precedence", precedence, 0, 2**31 - 1))
        if ok:
            groups.append(GroupSpec(name, description, precedence))
    if not value:
        r.bad("groups", "at least one group is needed: groups are what routes admit")
    r.duplicates("groups", "group", names)
    return tuple(groups), set(names)


def _group_refs(r: _Reader, key: str, value: Any, known: set[str] | None) -> tuple[str, ...] | None:
    """Group names a user or route gives; checked against ``known`` unless that is ``None``
    (the groups key itself is missing or broken: one problem there, not one per reference)."""
    names = r.string_list(key, value)
    if names is None:
        return None
    ok = True
    for name in names if known is not None else ():
        if name not in known:
            ok = r.check(key, f"unknown group {name!r}{_suggest(name, known)}; "
                         f"groups are: {', '.join(sorted(known)) or '(none)'}")
    if len(set(names)) != len(names):
        r.duplicates(key, "group", names)
        ok = False
    return tuple(names) if ok else None


def _users(r: _Reader, value: Any, known: set[str] | None) -> tuple[UserSpec, ...]:
    users, names = [], []
    for where, item in r.entries("users", value, ("username", "groups"), "username"):
        username = item["username"]
        names.append(username)
        ok = r.check(f"{where}.username", rules.name_problem("username", username))
        groups = _group_refs(r, f"{where}.groups", item.get("groups", []), known)
        if ok and groups is not None:
            users.append(UserSpec(username, groups))
    # Cognito usernames here are case-insensitive (see identity_pool.py), so compare folded.
    r.duplicates("users", "username (case-insensitive)",
                 [n.lower() for n in names if isinstance(n, str)])
    return tuple(users)


def _route_access(r: _Reader, where: str, item: dict,
                  known: set[str] | None) -> tuple[RouteAccess, tuple[str, ...]] | None:
    """Who may call the route: ``access`` (default ``groups``) and, for group access, 1-10
    groups. Groups given with another access are refused, not ignored."""
    access = item.get("access", RouteAccess.GROUPS.value)
    if not r.check(f"{where}.access", choice_problem(RouteAccess, "access", access)):
        return None
    access = RouteAccess(access)
    if access is not RouteAccess.GROUPS:
        if "groups" in item:
            r.bad(f"{where}.groups", f"a route with access {access.value!r} admits "
                  f"{'everyone' if access is RouteAccess.PUBLIC else 'every signed-in user'}: "
                  "remove its groups, or use access 'groups' to admit only them")
            return None
        return access, ()
    if "groups" not in item:
        r.bad(where, f"missing 'groups' (the groups that may call it) in {item!r}; or set "
              "access: public (no token needed) or access: signed-in (any valid token)")
        return None
    groups = _group_refs(r, f"{where}.groups", item["groups"], known)
    if groups is not None and not groups:
        r.bad(f"{where}.groups", "a route with group access must admit at least one group")
        return None
    if groups is not None and len(groups) > rules.MAX_SCOPES_PER_ROUTE:
        r.bad(f"{where}.groups", f"{len(groups)} groups, but API Gateway allows at most "
              f"{rules.MAX_SCOPES_PER_ROUTE} scopes per route (hard quota)")
        return None
    return (access, groups) if groups is not None else None


def _routes(r: _Reader, value: Any, known: set[str] | None,
            functions: Collection[str]) -> tuple[RouteSettings, ...]:
    routes, keys = [], []
    for where, item in r.entries("routes", value, ("route", "function", "access", "groups"),
                                 "route"):
        key = item["route"]
        keys.append(key)
        ok = r.check(f"{where}.route", route_key_problem(key))
        function = item.get("function")
        if function is None:
            ok = r.check(where, f"missing 'function' (a folder under functions/) in {item!r}")
        elif function in builtin_functions.ROLES:
            ok = r.check(f"{where}.function", f"{function!r} is "
                         f"{builtin_functions.ROLES[function]} of the components, not a route "
                         "handler")
        elif not isinstance(function, str) or not set(function) <= _FUNCTION_NAME_CHARS:
            ok = r.check(f"{where}.function", f"function {function!r} is not a folder name of "
                         "lowercase letters, digits and underscores")
        elif function not in functions:
            ok = r.check(f"{where}.function", f"no folder functions/{function}/ with a "
                         f"handler.py{_suggest(function, functions)}")
        access = _route_access(r, where, item, known)
        if ok and access is not None:
            routes.append(RouteSettings(key, function, access[1], access[0]))
    if isinstance(value, list):
        if not value:
            r.bad("routes", "at least one route is needed")
        elif len(value) > rules.MAX_ROUTES_PER_API:
            r.bad("routes", f"{len(value)} routes, but an HTTP API holds at most "
                  f"{rules.MAX_ROUTES_PER_API}")
    r.duplicates("routes", "route", [k for k in keys if isinstance(k, str)])
    return tuple(routes)


def available_functions(functions_dir: str | Path) -> set[str]:
    """The folders under ``functions_dir`` that hold a ``handler.py``, less the components' own
    functions: what a route's ``function`` may name (the one file-system read here, kept out of
    ``parse_settings``)."""
    return {p.parent.name for p in Path(functions_dir).glob("*/handler.py")} - set(
        builtin_functions.ROLES)


def parse_stack_config(config: Mapping[str, Any], *, functions: Collection[str]) -> Settings:
    """Validate a stack's whole config: every key with its namespace (``aws:region``,
    ``jwt-scoped-api:routes``), this project's values decoded. Other namespaces' values are not
    read; their keys are checked for a typo of this project's namespace."""
    project, _, problems = split_namespaces(config)
    try:
        settings = parse_settings(project, functions=functions)
    except ConfigError as error:
        raise ConfigError(problems + error.problems) from None
    if problems:
        raise ConfigError(problems)
    return settings


def parse_settings(raw: Mapping[str, Any], *, functions: Collection[str]) -> Settings:
    """Validate a stack's config.

    ``raw`` maps config keys without namespace (``"routes"``) to decoded values; ``functions``
    names the folders under ``functions/`` that hold a ``handler.py``.
    """
    r = _Reader()
    for key in raw:
        if key not in KNOWN_KEYS:
            r.bad(key, f"unknown config key{_suggest(key, KNOWN_KEYS)}; "
                  f"known keys: {', '.join(KNOWN_KEYS)}")
    for key in ("groups", "routes"):
        if key not in raw:
            r.bad(key, "required")
    groups, known = _groups(r, raw["groups"]) if "groups" in raw else ((), None)
    users = _users(r, raw.get("users", []), known)
    routes = _routes(r, raw["routes"], known, functions) if "routes" in raw else ()
    values: dict[str, Any] = {}
    for key, (attr, read) in _SCALARS.items():
        if key in raw:
            value = read(r, key, raw[key])
            if value is not None:
                values[attr] = value
    if r.problems:
        raise ConfigError(r.problems)
    return Settings(groups=groups, users=users, routes=routes, **values)
