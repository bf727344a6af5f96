"""A Pulumi project folder and its stack files, read as the Pulumi CLI reads them: the one place
the tools (``jwt-scoped sandbox``, ``plan``, ``verify``) find a program and its config.

A project is the folder holding ``Pulumi.yaml`` (its ``name`` is the config namespace of keys
written without one, its ``main`` the program's folder); a stack's config is
``Pulumi.<stack>.yaml`` beside it, merged over the project file's own ``config`` defaults.

A stack file is untrusted input (a pull request changes it and CI reads it), so reading one is
bounded: at most ``MAX_FILE_BYTES``, no YAML aliases (an alias bomb of a few hundred bytes
expands to gigabytes), nesting at most ``MAX_DEPTH`` deep, no key twice in one mapping (YAML
would silently keep the last). Every refusal is a ``ProjectError`` naming the file, line and
column, with any value in it cut to a readable length (``shown``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .model import shown

PROJECT_FILE = "Pulumi.yaml"
MAX_FILE_BYTES = 1024 * 1024
"""A stack file of 300 routes and 100 users is about 40 KB; a megabyte is far past any real one."""
MAX_DEPTH = 50
"""Mappings and lists inside each other: a stack file needs four or five levels."""
SECURE = "secure"


class ProjectError(Exception):
    """A project or stack file that cannot be used: one line for the user (exit 2)."""


# ---- bounded YAML -------------------------------------------------------------------------------

class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing aliases, deep nesting and repeated keys."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):  # PyYAML's composer hook
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"the alias *{event.anchor} is not allowed: a stack file may not "
                "repeat parts of itself by reference", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, yaml.Node] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    earlier = first.get(key)
                except TypeError:  # an unhashable key: PyYAML's own error says so
                    break
                if earlier is not None:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {shown(key)} is given twice in one mapping: first "
                        f"on line {earlier.start_mark.line + 1}, again on line "
                        f"{key_node.start_mark.line + 1} (YAML would silently keep the last)",
                        key_node.start_mark)
                first[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _yaml_error(path: Path, error: yaml.YAMLError) -> str:
    """``file:line:column: problem``, as editors and compilers print it."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
    return f"{where}: {problem}"


def read_yaml(path: Path | str) -> Any:
    """A YAML file's document, bounded as a stack file's must be."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ProjectError(f"{path}: {size:,} bytes is more than a stack file may hold "
                               f"({MAX_FILE_BYTES:,})")
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ProjectError(f"{path}: cannot read: {error}") from None
    if len(data) > MAX_FILE_BYTES:  # it grew after the stat
        raise ProjectError(f"{path}: more than {MAX_FILE_BYTES:,} bytes")
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as error:
        raise ProjectError(_yaml_error(path, error)) from None
    except RecursionError:  # a parser state PyYAML recurses in before the depth check sees it
        raise ProjectError(f"{path}: nested too deeply to read") from None
    finally:
        loader.dispose()


# ---- the project ---------------------------------------------------------------------------------

def _config_defaults(name: str, document: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """The project file's ``config`` (Pulumi's project-level config): each key's value, written
    as is or as ``value:`` or ``default:`` of a declaration, keyed with its namespace."""
    config = document.get("config") or {}
    if not isinstance(config, Mapping):
        raise ProjectError(f"{path}: 'config' must be a mapping of keys to values")
    out = {}
    for key, value in config.items():
        if not isinstance(value, Mapping):
            out[full_key(name, key)] = value
        elif "value" in value or "default" in value:
            out[full_key(name, key)] = value.get("value", value.get("default"))
    return out


def full_key(namespace: str, key: Any) -> str:
    """A config key with its namespace: ``routes`` -> ``<project>:routes`` (as Pulumi keys a key
    written without one), ``aws:region`` as it is."""
    key = str(key)
    return key if ":" in key else f"{namespace}:{key}"


@dataclass(frozen=True)
class Project:
    """A Pulumi project: the folder of its ``Pulumi.yaml``."""

    root: Path
    name: str
    main: Path
    """The program's folder (``main:`` in the project file, else the project folder)."""
    defaults: dict[str, Any] = field(default_factory=dict)
    """Config the project file sets for every stack, keyed with namespaces."""

    @classmethod
    def find(cls, start: Path | str | None = None) -> Project:
        """The project whose folder is ``start`` (default: the working directory) or the nearest
        folder above it with a ``Pulumi.yaml``, as the Pulumi CLI looks for one."""
        here = Path(start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / PROJECT_FILE).is_file():
                return cls.load(folder)
        raise ProjectError(f"no {PROJECT_FILE} in {here} or any folder above it: run this in a "
                           "Pulumi project, or pass --cwd PROJECT_FOLDER")

    @classmethod
    def load(cls, root: Path | str) -> Project:
        root = Path(root).resolve()
        path = root / PROJECT_FILE
        document = read_yaml(path)
        if not isinstance(document, Mapping) or not isinstance(document.get("name"), str):
            raise ProjectError(f"{path}: a project file needs a 'name'")
        runtime = document.get("runtime")
        runtime_name = runtime.get("name") if isinstance(runtime, Mapping) else runtime
        if runtime_name != "python":
            raise ProjectError(f"{path}: runtime {shown(runtime_name)} is not python; these tools "
                               "run Python programs")
        main = root / str(document.get("main") or ".")
        if main.suffix == ".py":
            main = main.parent
        return cls(root, document["name"], main.resolve(),
                   _config_defaults(document["name"], document, path))

    @property
    def program(self) -> Path:
        """The program Pulumi runs: ``__main__.py`` in the program's folder."""
        return self.main / "__main__.py"

    def stacks(self) -> list[str]:
        """The stacks that have a stack file here."""
        return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in self.root.glob("Pulumi.*.yaml"))

    def stack_file(self, stack: str) -> Path:
        """``Pulumi.<stack>.yaml`` of an existing stack; for ``org/project/stack`` names, the last
        part names the file. A stack without a file is an error listing those that have one."""
        path = self.root / f"Pulumi.{stack.rsplit('/', 1)[-1]}.yaml"
        if not path.is_file():
            raise ProjectError(f"no stack {stack!r}: there is no {path.name} in {self.root}; "
                               f"stacks with a file: {', '.join(self.stacks()) or 'none'} (or "
                               "pass --config FILE)")
        return path

    def stack_config(self, path: Path | str) -> dict[str, Any]:
        """A stack file's config over the project's defaults, every key with its namespace,
        values as written. Refuses the project file itself and encrypted values, which these
        tools, offline, cannot decrypt."""
        path = Path(path)
        document = read_yaml(path)
        if document is None:
            document = {}
        if not isinstance(document, Mapping):
            raise ProjectError(f"{path}: expected a mapping with a 'config' key")
        if "runtime" in document or "name" in document:
            raise ProjectError(f"{path}: this is the project file (it has "
                               f"{'runtime' if 'runtime' in document else 'name'}:), not a stack "
                               "file; pass a stack's Pulumi.<stack>.yaml, e.g. --stack dev")
        config = document.get("config") or {}
        if not isinstance(config, Mapping):
            raise ProjectError(f"{path}: 'config' must be a mapping of keys to values")
        values = dict(self.defaults)
        for key, value in config.items():
            name = full_key(self.name, key)
            if isinstance(value, Mapping) and set(value) == {SECURE}:
                raise ProjectError(f"{path}: {name} is an encrypted secret; these tools read "
                                   "stack files without the Pulumi CLI and cannot decrypt it")
            values[name] = value
        return values


def stack_name(stack: str | None, path: Path) -> str:
    """The stack the program sees (``pulumi.get_stack()``): the one asked for, else the file's
    (``Pulumi.<stack>.yaml``), else ``dev``."""
    if stack:
        return stack.rsplit("/", 1)[-1]
    name = path.name
    if name.startswith("Pulumi.") and name.endswith(".yaml") and name.count(".") >= 2:
        return name[len("Pulumi."):-len(".yaml")]
    return "dev"


# ---- the AWS region ------------------------------------------------------------------------------

REGION_KEY = "aws:region"
SERVICES = ("cognito-idp", "apigatewayv2")
"""What the components deploy to: Cognito user pools and API Gateway HTTP APIs."""


def offered_regions() -> set[str]:
    """The regions where every service of ``SERVICES`` is offered, in every AWS partition, from
    the endpoint data botocore keeps (``botocore/data/endpoints.json``); FIPS endpoints are
    endpoints, not regions."""
    import botocore.session

    session = botocore.session.get_session()
    offered: set[str] | None = None
    for service in SERVICES:
        regions = {r for partition in session.get_available_partitions()
                   for r in session.get_available_regions(service, partition)
                   if not r.startswith("fips-") and not r.endswith("-fips")}
        offered = regions if offered is None else offered & regions
    return offered or set()


def region_problem(config: Mapping[str, Any]) -> str | None:
    """Why the stack's ``aws:region`` cannot hold the system, or ``None``; no region at all is
    the AWS provider's to refuse (it reads ``AWS_REGION`` too)."""
    if REGION_KEY not in config:
        return None
    region = config[REGION_KEY]
    offered = offered_regions()
    if isinstance(region, str) and region in offered:
        return None
    import difflib

    close = difflib.get_close_matches(str(region), sorted(offered), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (f"{REGION_KEY}: {shown(region)} is not a region where Cognito user pools and HTTP "
            f"APIs are offered{hint}")
