"""A Pulumi stack file -> validated ``StackSettings``, judged exactly as the program judges it.

Pulumi hands the program every config value as a string (structured values as JSON), and
``__main__.py`` decodes each with ``decode_config_value`` before ``parse_settings``. Here the same
happens to the values read from the YAML file, so a config error reads the same in
``access plan`` as in ``pulumi up``. Keys under other namespaces (``aws:region``) are kept as
written; a key without a namespace belongs to the project, as in Pulumi.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from program.config import (
    NAMESPACE,
    available_functions,
    decode_config_value,
    parse_stack_config,
    split_namespaces,
)
from program.stack import StackSettings

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"


class StackFileError(Exception):
    """A stack file that cannot be read at all (missing, not YAML, an encrypted value)."""


@dataclass(frozen=True)
class StackConfig:
    path: Path
    values: dict[str, Any]
    """Every key with its namespace; this project's values decoded as the program decodes them,
    other namespaces' values as written."""

    @property
    def project(self) -> dict[str, Any]:
        """This project's values, keyed without the namespace."""
        return split_namespaces(self.values)[0]

    @property
    def other(self) -> dict[str, Any]:
        """Other namespaces' values, with their full keys (``aws:region``)."""
        return split_namespaces(self.values)[1]


def stack_file(stack: str, root: Path = ROOT) -> Path:
    """``Pulumi.<stack>.yaml`` of an existing stack; for ``org/project/stack`` names, the last
    part names the file. A stack without a file is an error listing the stack files there are."""
    path = Path(root) / f"Pulumi.{stack.rsplit('/', 1)[-1]}.yaml"
    if not path.is_file():
        names = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in Path(root).glob("Pulumi.*.yaml"))
        raise StackFileError(f"no stack {stack!r}: there is no {path.name} in {root}; stacks with "
                             f"a file: {', '.join(names) or 'none'} (or pass --config FILE)")
    return path


def pulumi_string(value: Any) -> str:
    """The string Pulumi passes to the program for a value written in a stack file."""
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def decoded(config: Mapping[str, Any]) -> dict[str, Any]:
    """The stack file's values as the program sees them: this project's decoded exactly as
    Pulumi hands them over, other namespaces' kept as written."""
    out = {}
    for key, value in config.items():
        namespace, sep, name = str(key).partition(":")
        if sep and namespace != NAMESPACE:
            out[key] = value
            continue
        name = name if sep else namespace
        if isinstance(value, dict) and set(value) == {"secure"}:
            raise StackFileError(f"{NAMESPACE}:{name} is an encrypted secret; this tool reads "
                                 "stack files offline and cannot decrypt it")
        out[f"{NAMESPACE}:{name}"] = decode_config_value(pulumi_string(value))
    return out


def _yaml_error(path: Path, error: yaml.YAMLError) -> str:
    """``file:line:column: problem``, as editors and compilers print it."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
    return f"{where}: not valid YAML: {problem}"


def read_stack_config(path: Path | str) -> StackConfig:
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StackFileError(f"{path}: no such stack file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise StackFileError(f"{path}: cannot read: {error}") from None
    except yaml.YAMLError as error:
        raise StackFileError(_yaml_error(path, error)) from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise StackFileError(f"{path}: expected a mapping with a 'config' key")
    if "runtime" in document or "name" in document:
        raise StackFileError(f"{path}: this is the project file (it has "
                             f"{'runtime' if 'runtime' in document else 'name'}:), not a stack "
                             "file; pass a stack's Pulumi.<stack>.yaml, e.g. --stack dev")
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path}: 'config' must be a mapping of keys to values")
    return StackConfig(path, decoded(config))


def load_settings(path: Path | str, functions: Collection[str] | None = None) -> StackSettings:
    """Read and validate a stack file; raises ``StackFileError`` or the program's ``ConfigError``.

    ``functions`` defaults to the folders under ``functions/`` of this checkout, as for the
    program.
    """
    config = read_stack_config(path)
    return parse_stack_config(config.values,
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
