"""A Pulumi stack file -> validated ``Settings``, judged exactly as the program judges it.

Pulumi hands the program every config value as a string (structured values as JSON), and
``__main__.py`` decodes each with ``decode_config_value`` before ``parse_settings``. Here the same
happens to the values read from the YAML file, so a config error reads the same in
``access plan`` as in ``pulumi up``. Keys under other namespaces (``aws:region``) are kept aside;
a key without a namespace belongs to the project, as in Pulumi.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.settings import NAMESPACE, Settings, available_functions, decode_config_value, parse_settings

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"


class StackFileError(Exception):
    """A stack file that cannot be read at all (missing, not YAML, an encrypted value)."""


@dataclass(frozen=True)
class StackConfig:
    path: Path
    project: dict[str, Any]
    """``jwt-scoped-api:*`` values without the namespace, decoded as the program decodes them."""
    other: dict[str, Any] = field(default_factory=dict)
    """Values of other namespaces, with their full keys (``aws:region``)."""


def stack_file(stack: str, root: Path = ROOT) -> Path:
    """``Pulumi.<stack>.yaml``; for ``org/project/stack`` names, the last part names the file."""
    return Path(root) / f"Pulumi.{stack.rsplit('/', 1)[-1]}.yaml"


def pulumi_string(value: Any) -> str:
    """The string Pulumi passes to the program for a value written in a stack file."""
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def split_config(config: Mapping[str, Any], namespace: str = NAMESPACE) -> tuple[dict, dict]:
    """(project values without namespace, decoded; other namespaces' values as written)."""
    project, other = {}, {}
    for key, value in config.items():
        ns, sep, name = str(key).partition(":")
        if sep and ns != namespace:
            other[key] = value
            continue
        name = name if sep else ns
        if isinstance(value, dict) and set(value) == {"secure"}:
            raise StackFileError(f"{namespace}:{name} is an encrypted secret; this tool reads stack "
                                 "files offline and cannot decrypt it")
        project[name] = decode_config_value(pulumi_string(value))
    return project, other


def read_stack_config(path: Path | str) -> StackConfig:
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StackFileError(f"{path}: no such stack file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise StackFileError(f"{path}: cannot read: {error}") from None
    except yaml.YAMLError as error:
        raise StackFileError(f"{path}: not valid YAML: {error}".replace("\n", " ")) from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise StackFileError(f"{path}: expected a mapping with a 'config' key")
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path}: 'config' must be a mapping of keys to values")
    project, other = split_config(config)
    return StackConfig(path, project, other)


def load_settings(path: Path | str, functions: Collection[str] | None = None) -> Settings:
    """Read and validate a stack file; raises ``StackFileError`` or the program's ``ConfigError``.

    ``functions`` defaults to the folders under ``functions/`` of this checkout, as for the
    program.
    """
    config = read_stack_config(path)
    return parse_settings(config.project,
                          functions=(available_functions(FUNCTIONS_DIR) if functions is None
                                     else functions))


def functions_named(path: Path | str) -> set[str]:
    """The route functions a stack file names. A config from another revision (``--against``)
    is checked against these instead of this checkout's folders, which it may predate."""
    routes = read_stack_config(path).project.get("routes")
    if not isinstance(routes, list):
        return set()
    return {r["function"] for r in routes
            if isinstance(r, dict) and isinstance(r.get("function"), str)}
