"""Stack config -> ``StackSettings``: the only place that knows the ``jwt-scoped-api:*`` keys.

Each key maps onto fields of the components' args (``KEYS``); the values are read by the fields'
types and judged by the fields' own rules and the args' cross-field rules (``jwt_scoped.model``),
so a default or a rule is stated once, on the args. The routes are the API's ``ApiRoute``s, their
``groups`` the names of the pool's scopes; the rules that span the two components (a route's
groups are the pool's, its function a folder of this program) are the API's own, judged with the
pool's groups and the program's function folders standing in for values that exist only once
deployed. Every problem is reported at once, each prefixed with the config key it came from
(``jwt-scoped-api:groups[2].precedence: ...``), and one bad value is one problem: a value that
cannot be read is not judged again, nor is anything that depends on it. Pure: no Pulumi engine,
no AWS; the program (``__main__.py``) calls it.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import json
import re
import typing
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jwt_scoped import rules as r
from jwt_scoped.http_api import ApiRoute, ScopedHttpApiArgs
from jwt_scoped.identity_pool import ScopedIdentityPoolArgs, resource_scope_problem
from jwt_scoped.model import UNREAD, Problem, field_named, field_problems, plain_type, shown, type_hints

NAMESPACE = "jwt-scoped-api"
# How alike a namespace must be to the project's to be taken for a typo of it (difflib ratio):
# 0.8 catches one or two wrong, missing or extra characters in "jwt-scoped-api" and leaves
# provider namespaces (aws, random, pulumi) alone.
_NAMESPACE_TYPO_RATIO = 0.8


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def list_item_type(cls: type, name: str) -> type | None:
    """The args dataclass a list field holds, if it holds one."""
    tp = plain_type(type_hints(cls)[name])
    args = typing.get_args(tp)
    return args[0] if args and dataclasses.is_dataclass(args[0]) else None


def item_key(cls: type, name: str) -> str:
    """The config key of field ``name`` in an item of args ``cls``."""
    return _ITEM_KEYS.get(cls, {}).get(name) or camel(name)


@dataclass(frozen=True)
class Key:
    """A stack config key and the args fields it sets."""

    name: str
    fields: tuple[tuple[type, str], ...]
    note: str = ""
    """What the program does with the value beyond those fields (for the config reference)."""
    item_keys: Mapping[str, str] = field(default_factory=dict)
    """For a list of args: field name -> its key in each item, where that is not the field's
    name in camelCase."""

    @property
    def required(self) -> bool:
        cls, name = self.fields[0]
        f = field_named(cls, name)
        return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


POOL, API = ScopedIdentityPoolArgs, ScopedHttpApiArgs
# In the order of the config reference. A key is its field's name in camelCase, except
# protectUserPool (the pool's "protect") and, in each route, "route" (routeKey) and "groups"
# (scopes: the pool's scopes are named by their groups); logRetentionDays sets the pool's and the
# API's.
KEYS: tuple[Key, ...] = (
    Key("groups", ((POOL, "groups"),)),
    Key("routes", ((API, "routes"),), note="Each route's function is a folder under functions/ "
        "with a handler.py.", item_keys={"route_key": "route", "scopes": "groups"}),
    Key("users", ((POOL, "users"),)),
    Key("tokenUse", ((POOL, "token_use"),)),
    Key("stageName", ((API, "stage_name"),)),
    Key("callbackUrls", ((POOL, "callback_urls"),)),
    Key("logoutUrls", ((POOL, "logout_urls"),)),
    Key("appClients", ((POOL, "app_clients"),)),
    Key("resourceServers", ((POOL, "resource_servers"),)),
    Key("machineClients", ((POOL, "machine_clients"),), note="Their ids and secrets are the "
        "machine_client_ids and machine_client_secrets outputs (a secret)."),
    Key("domainPrefix", ((POOL, "domain_prefix"),)),
    Key("idTokenValidityMinutes", ((POOL, "id_token_validity_minutes"),)),
    Key("accessTokenValidityMinutes", ((POOL, "access_token_validity_minutes"),)),
    Key("refreshTokenValidityDays", ((POOL, "refresh_token_validity_days"),)),
    Key("throttlingBurstLimit", ((API, "throttling_burst_limit"),)),
    Key("throttlingRateLimit", ((API, "throttling_rate_limit"),)),
    Key("corsOrigins", ((API, "cors_origins"),)),
    Key("logRetentionDays", ((POOL, "log_retention_days"), (API, "log_retention_days")),
        note="The program gives it to every route function too."),
    Key("protectUserPool", ((POOL, "protect"),)),
)
KNOWN_KEYS = tuple(k.name for k in KEYS)
_KEY_OF = {target: k for k in KEYS for target in k.fields}
_ITEM_KEYS = {item: k.item_keys for k in KEYS for item in (list_item_type(*k.fields[0]),)
              if item is not None}
PENDING = "pending"
"""Stands in, while the config is judged, for what exists only once deployed (an ARN, a scope)."""
PENDING_ISSUER = "https://issuer.pending"


class ConfigError(ValueError):
    """A stack config that cannot be deployed; ``problems`` holds one line per culprit."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid stack config ({len(problems)} problem"
                         f"{'s' if len(problems) != 1 else ''}):\n{lines}")


def decode_config_value(text: str) -> Any:
    """Pulumi hands the program every config value as a string; structured values as JSON.
    Decode JSON where it parses, else keep the string (``Test`` stays ``"Test"``)."""
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


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


# ---- reading values by the type of the field they set ---------------------------------------

class _Reader:
    """Collects problems, each prefixed with its config key."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self._seen: set[str] = set()

    def bad(self, path: str, message: str) -> None:
        line = f"{NAMESPACE}:{path}: {message}"
        if line not in self._seen:
            self._seen.add(line)
            self.problems.append(line)

    def read(self, path: str, value: Any, tp: Any) -> Any:
        """``value`` as the type ``tp`` holds, or ``UNREAD`` (its problem reported)."""
        tp = plain_type(tp)
        origin = typing.get_origin(tp)
        if dataclasses.is_dataclass(tp):
            return self.read_object(path, value, tp)
        if origin in (Sequence, list, tuple):
            return self.read_list(path, value, (typing.get_args(tp) or (Any,))[0])
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return tp(value) if value in {m.value for m in tp} else value  # rules judge others
        if tp is bool and isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if tp is int and isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        if tp is float and isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                return value
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value  # the field's rules judge it

    def read_list(self, path: str, value: Any, item: Any) -> Any:
        if isinstance(value, str) and plain_type(item) is str:
            items = _list_items(value)
            if len(items) > 1 or value.strip().startswith("["):
                self.bad(path, f"expected a list, got the single string {shown(value)}; write a YAML "
                         "list, one item per line:\n      " + f"{NAMESPACE}:{path.split('[')[0]}:"
                         + "".join(f"\n        - {x}" for x in items))
                return UNREAD
            value = [value]  # `pulumi config set KEY VALUE` gives a plain string
        if not isinstance(value, list):
            self.bad(path, f"expected a list, got {shown(value)}")
            return UNREAD
        out = []
        for i, element in enumerate(value):
            if plain_type(item) is str and not isinstance(element, str):
                self.bad(f"{path}[{i}]", f"expected a string, got {shown(element)}")
                out.append(UNREAD)
            else:
                out.append(self.read(f"{path}[{i}]", element, item))
        return tuple(out)

    def read_object(self, path: str, value: Any, cls: type) -> Any:
        """A mapping of camelCase keys -> ``cls``. Missing or unreadable required fields become
        ``UNREAD`` (not judged again); unreadable optional ones keep their defaults."""
        fields = {item_key(cls, f.name): f for f in dataclasses.fields(cls)}
        required = [k for k, f in fields.items() if f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING]
        if not isinstance(value, Mapping):
            self.bad(path, f"expected a mapping with {', '.join(map(repr, required))}, "
                     f"got {shown(value)}")
            return UNREAD
        for extra in value:
            if extra not in fields:
                self.bad(f"{path}.{shown(extra) if not isinstance(extra, str) else extra}",
                         f"unknown key{r.suggestion(extra, fields)}; "
                         f"allowed: {', '.join(fields)}")
        hints = type_hints(cls)
        values = {}
        for key, f in fields.items():
            if key in value:
                values[f.name] = self.read(f"{path}.{key}", value[key], hints[f.name])
            elif key in required:
                self.bad(path, f"missing {key!r} in {shown(value)}")
                values[f.name] = UNREAD
        # An unreadable optional field keeps its default; a required one stays UNREAD.
        optional_unread = {f.name for key, f in fields.items()
                           if key not in required and values.get(f.name) is UNREAD}
        return cls(**{k: v for k, v in values.items() if k not in optional_unread})

    def judge(self, problems: Iterable[Problem], cls: type) -> None:
        for problem in problems:
            path = config_path(cls, problem.path)
            if path is not None:
                self.bad(path, problem.message)


def config_path(cls: type, field_path: str) -> str | None:
    """``routes[2].scopes`` of ``ScopedHttpApiArgs`` -> the config key path, ``routes[2].groups``;
    ``None`` for a field no key sets (the program's own wiring, such as the API's functions)."""
    head, _, rest = field_path.partition(".")
    name, bracket, index = head.partition("[")
    key = _KEY_OF.get((cls, name))
    if key is None:
        return None
    parts = [key.name + bracket + index]
    item = list_item_type(cls, name)
    for part in rest.split(".") if rest else ():
        field_name, bracket, index = part.partition("[")
        parts.append(item_key(item, field_name) + bracket + index if item is not None
                     else camel(field_name) + bracket + index)
        item = list_item_type(item, field_name) if item is not None else None
    return ".".join(parts)


def _list_items(text: str) -> list[str]:
    """The items a list-looking string seems to hold: split at commas or whitespace."""
    return [item for item in re.split(r"[\s,]+", text.strip().strip("[]")) if item]


# ---- the whole config --------------------------------------------------------------------

def available_functions(functions_dir: str | Path) -> set[str]:
    """The folders under ``functions_dir`` that hold a ``handler.py``: what a route's ``function``
    may name (the one file-system read here, kept out of ``parse_settings``)."""
    return {p.parent.name for p in Path(functions_dir).glob("*/handler.py")}


@dataclass(frozen=True)
class StackSettings:
    """A stack's validated config: the identity pool's args, and the ``ScopedHttpApiArgs``
    fields the config sets (its routes among them); ``__main__.py`` adds the wiring (issuer,
    audiences, functions, scopes)."""

    identity: ScopedIdentityPoolArgs
    api: Mapping[str, Any] = field(default_factory=dict)

    @property
    def routes(self) -> tuple[ApiRoute, ...]:
        return tuple(self.api["routes"])

    @property
    def functions(self) -> tuple[str, ...]:
        """Distinct route functions, in order of first use."""
        return tuple(dict.fromkeys(route.function for route in self.routes))


def parse_stack_config(config: Mapping[str, Any], *, functions: Collection[str]) -> StackSettings:
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


def parse_settings(raw: Mapping[str, Any], *, functions: Collection[str]) -> StackSettings:
    """Validate this project's config values (keys without the namespace, values decoded);
    ``functions`` names the folders under ``functions/`` that hold a ``handler.py``."""
    rd = _Reader()
    for key in raw:
        if key not in KNOWN_KEYS:
            rd.bad(shown(key) if not isinstance(key, str) else key,
                   f"unknown config key{r.suggestion(key, KNOWN_KEYS)}; "
                   f"known keys: {', '.join(KNOWN_KEYS)}")
    values: dict[type, dict[str, Any]] = {POOL: {}, API: {}}
    for key in KEYS:
        if key.name not in raw:
            if key.required:
                rd.bad(key.name, "required")
            continue
        for cls, name in key.fields:
            value = rd.read(key.name, raw[key.name], type_hints(cls)[name])
            if value is not UNREAD:
                values[cls][name] = value
                rd.judge(field_problems(field_named(cls, name), value, name), cls)
    identity = _complete(rd, POOL, values[POOL])
    if identity is not None:
        _judge_audiences(rd, identity)
    if "routes" in values[API]:
        rd.judge(_wired(values[API], identity, functions).cross_problems(), API)
        if identity is not None and identity.resource_servers_readable():
            _judge_machine_scopes(rd, values[API]["routes"], identity)
    if rd.problems:
        raise ConfigError(rd.problems)
    return StackSettings(identity=identity, api=values[API])


def _complete(rd: _Reader, cls: type, values: dict[str, Any]) -> Any:
    """The args when every required field was read; then the cross-field rules too (field
    rules were judged as each key was read)."""
    required = [f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if any(name not in values for name in required):
        return None
    args = cls(**values)
    rd.judge(args.cross_problems(), cls)
    return args


def _wired(api: Mapping[str, Any], identity: ScopedIdentityPoolArgs | None,
           functions: Collection[str]) -> ScopedHttpApiArgs:
    """The API's args as ``__main__.py`` will wire them, with ``PENDING`` for what exists only
    once deployed: the pool's scopes by group name, one per app client (unknown when the groups
    could not be read), and the program's function folders, so the API's own cross-field rules
    (its scope quota among them) judge the config."""
    clients = len(identity.user_clients) if identity is not None else 1
    scopes = ({g.name: [PENDING] * clients for g in identity.groups
               if isinstance(getattr(g, "name", None), str)}
              if identity is not None else UNREAD)
    return ScopedHttpApiArgs(issuer=PENDING_ISSUER, audiences=(PENDING,),
                             functions={name: PENDING for name in sorted(functions)},
                             scopes=scopes, **api)


def _judge_audiences(rd: _Reader, identity: ScopedIdentityPoolArgs) -> None:
    """Every client is an audience of the API's authorizer, which takes a limited number."""
    total = len(identity.user_clients) + len(identity.machine_clients or ())
    if total > r.MAX_AUDIENCES:
        rd.bad("machineClients" if identity.machine_clients else "appClients",
               f"{total} app clients in all, each an audience of the API: {r.AUDIENCES_QUOTA}")


def _judge_machine_scopes(rd: _Reader, routes: Any, identity: ScopedIdentityPoolArgs) -> None:
    """A route's machine scopes are scopes the pool's resource servers define."""
    for i, route in enumerate(routes if isinstance(routes, Sequence) else ()):
        for j, scope in enumerate(getattr(route, "machine_scopes", None) or ()):
            if isinstance(scope, str) and (problem := resource_scope_problem(
                    scope, identity.resource_servers or ())):
                rd.bad(f"routes[{i}].machineScopes[{j}]", problem)
