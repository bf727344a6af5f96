"""Run the policy pack on a mocked run of the program, as ``pulumi preview --policy-pack policy``
does, without the Pulumi CLI.

What the CLI's engine would send the pack is rebuilt from what ``jwt_scoped.recording`` recorded
at registration: each resource's URN, type, name, parent, dependencies and property dependencies,
its inputs exactly as the SDK sent them, and its state. The pack then runs as the CLI runs it:
through pulumi-policy's own analyzer service (the gRPC servicer ``PolicyPack`` starts), with the
same requests: ``GetAnalyzerInfo``, ``Configure`` (the config file reconciled with the policies'
schemas and defaults, as the CLI does), ``Analyze`` for every resource and ``AnalyzeStack`` once.
``InProcess`` calls the servicer directly; ``Remote`` talks gRPC to the pack started as the CLI
starts it (``python -m pulumi.policy``).

Two views of a stack:

- ``update_view(run)``: an update, or a preview of an existing stack: every value known.
- ``preview_view(preview_run, update_run)``: a preview of a new stack. Inputs as the SDK sent them
  in a preview (values derived from other resources' outputs unknown), and each resource's state
  as the engine plans it: its inputs, with its ID and every output the provider computes unknown.

The stack resource's state is the stack's outputs, as the engine hands them to ``AnalyzeStack``
(the program registers them when it ends, before the stack is analyzed): secret outputs marked as
secrets (the engine marshals them with ``KeepSecrets``); in a preview, the names the update
exports, with unknown values. ``record`` runs the program under ``ProviderMocks``, which also
compute what the AWS provider does and the recording mocks leave out (an app client's
``clientSecret``, a secret output of pulumi-aws).

What is simulated: the engine itself (its plan, its resource states), the provider's ``Check``
(which would add defaults and auto-names to the inputs) and its computed outputs; everything the
pack sees is otherwise what the SDK registered. Components' registered outputs are not recorded,
so their state is their inputs. ``render`` prints diagnostics in the shape of the CLI's "Policies:"
section (``pkg/backend/display`` in pulumi/pulumi).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import selectors
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy.deserialize import serialize_properties
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from jwt_scoped import aws_types
from jwt_scoped.project import REGION_KEY, Project
from jwt_scoped.recording import (
    DEFAULT_REGION,
    SECRET_KEY,
    SECRET_SIG,
    RecordingMocks,
    Registered,
    Run,
    run_program,
)

ROOT = Path(__file__).resolve().parent.parent
PACK_DIR = ROOT / "policy"
STACK_TYPE = aws_types.STACK
UNKNOWN = UNKNOWN_STRING_VALUE  # how the engine marshals a value it cannot know yet
LEVELS = ("advisory", "mandatory", "remediate", "disabled")


@dataclass(frozen=True)
class AnalyzedResource:
    """One resource as the engine describes it to a policy pack."""

    urn: str
    type: str
    name: str
    inputs: dict
    """What ``Analyze`` gets: the resource's inputs (JSON form; unknowns as the sentinel)."""
    state: dict
    """What ``AnalyzeStack`` gets: the resource's state (outputs; in a preview, planned)."""
    parent: str = ""
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    protect: bool = False
    custom: bool = True


# Outputs the AWS provider computes as secrets (pulumi-aws's schema: `secret: true`), which the
# engine keeps marked in the resource's state.
SECRET_OUTPUTS = {aws_types.USER_POOL_CLIENT: ("clientSecret",)}
CLIENT_SECRET_LENGTH = 51  # UserPoolClientType ClientSecret: 1 to 64 characters of [\w+]


def client_secret(name: str) -> str:
    """The secret the (mocked) provider gives the app client ``name``: fixed per name."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    digest = hashlib.sha512(f"client-secret:{name}".encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest)[:CLIENT_SECRET_LENGTH]


class ProviderMocks(RecordingMocks):
    """The recording mocks, answering with the outputs the AWS provider computes that they leave
    out: a ``clientSecret`` for every app client created with ``generateSecret``."""

    def fake(self, typ: str, name: str, inputs: dict) -> tuple[str, dict]:
        rid, outputs = super().fake(typ, name, inputs)
        if typ == aws_types.USER_POOL_CLIENT and inputs.get("generateSecret") is True:
            outputs["clientSecret"] = client_secret(name)
        return rid, outputs


def record(project: Project, config: dict, *, stack: str, preview: bool = False) -> Run:
    """The program run with ``config`` under ``ProviderMocks``: as an update, or a preview."""
    mocks = ProviderMocks(region=config.get(REGION_KEY, DEFAULT_REGION), preview=preview)
    return run_program(project, config, stack=stack, preview=preview, mocks=mocks)


def secret(value: Any) -> dict:
    """``value`` (JSON form) as the engine marshals a secret."""
    return {SECRET_KEY: SECRET_SIG, "value": value}


def _json(value: Any) -> Any:
    """A mocked output as the engine would marshal it (assets as their signature objects)."""
    return json.loads(json.dumps(serialize_properties({"v": value})["v"], default=str))


def _computed(registered: Registered) -> dict:
    """The outputs the (mocked) provider computed: what the inputs do not already say."""
    return {k: v for k, v in registered.outputs.items() if k not in registered.inputs}


def _stack(run: Run, outputs: dict) -> AnalyzedResource:
    """The stack resource: no inputs; its state, the stack's outputs."""
    name = run.stack_urn.rsplit("::", 1)[-1]
    return AnalyzedResource(run.stack_urn, STACK_TYPE, name, {}, outputs, custom=False)


def _outputs(run: Run) -> dict:
    """The stack's outputs as the engine holds them once the program has run: secrets marked."""
    return {name: secret(_json(value)) if run.secret.get(name) else _json(value)
            for name, value in run.exports.items()}


def _computed_state(registered: Registered) -> dict:
    marked = SECRET_OUTPUTS.get(registered.type, ())
    return {k: secret(_json(v)) if k in marked else _json(v)
            for k, v in _computed(registered).items()}


def update_view(run: Run) -> list[AnalyzedResource]:
    """The stack as an update (or a preview of an existing stack) shows it: all values known."""
    assert not run.preview, "update_view takes a run recorded as an update"
    resources = [_stack(run, _outputs(run))]
    for r in run.registered:
        state = dict(r.wire_inputs)
        if r.custom:
            state.update(_computed_state(r))
            state["id"] = r.id
        resources.append(AnalyzedResource(
            r.urn, r.type, r.name, dict(r.wire_inputs), state, r.parent_urn, r.dependencies,
            dict(r.property_dependencies), r.protect, r.custom))
    return resources


def preview_view(preview_run: Run, update_run: Run) -> list[AnalyzedResource]:
    """The stack as a preview of a new stack shows it: inputs as the SDK sent them in the
    preview; state = those inputs, with the ID and every computed output unknown (which outputs
    a resource computes is read off ``update_run`` of the same config). The stack's outputs: the
    names ``update_run`` exports, each unknown (a preview exports nothing the harness can read)."""
    assert preview_run.preview and not update_run.preview
    computed = {r.urn: _computed(r) for r in update_run.registered}
    resources = [_stack(preview_run, {name: UNKNOWN for name in update_run.exports})]
    for r in preview_run.registered:
        state = dict(r.wire_inputs)
        if r.custom:
            state.update({k: UNKNOWN for k in computed.get(r.urn, {}) if k not in state})
            state["id"] = UNKNOWN
        resources.append(AnalyzedResource(
            r.urn, r.type, r.name, dict(r.wire_inputs), state, r.parent_urn, r.dependencies,
            dict(r.property_dependencies), r.protect, r.custom))
    return resources


# --- editing a recorded stack (one fault at a time) ------------------------------------------

def find(resources: Sequence[AnalyzedResource], name: str, typ: str | None = None) -> AnalyzedResource:
    found = [r for r in resources if r.name == name and (typ is None or r.type == typ)]
    assert len(found) == 1, f"expected one resource named {name!r}, found {len(found)}"
    return found[0]


def edit(resources: Sequence[AnalyzedResource], name: str, typ: str | None = None, *,
         set: Mapping[str, Any] | None = None, drop: Iterable[str] = (),  # noqa: A002
         sources: Mapping[str, Sequence[str]] | None = None) -> list[AnalyzedResource]:
    """``resources`` with one resource's properties changed (in its inputs and its state, as a
    program change would): ``set`` top-level properties (to literal values, so without the
    dependencies the old values brought, unless ``sources`` gives a property the URNs its new
    value comes from); ``drop`` others with their dependencies."""
    target = find(resources, name, typ)
    drop_keys, set_ = list(drop), dict(set or {})
    inputs = {k: v for k, v in target.inputs.items() if k not in drop_keys} | set_
    state = {k: v for k, v in target.state.items() if k not in drop_keys} | set_
    prop_deps = {k: v for k, v in target.property_dependencies.items()
                 if k not in drop_keys and k not in set_}
    prop_deps |= {k: tuple(v) for k, v in (sources or {}).items()}
    deps = tuple(sorted({u for v in prop_deps.values() for u in v}))
    changed = replace(target, inputs=inputs, state=state, property_dependencies=prop_deps,
                      dependencies=deps)
    return [changed if r is target else r for r in resources]


def remove(resources: Sequence[AnalyzedResource], name: str,
           typ: str | None = None) -> list[AnalyzedResource]:
    target = find(resources, name, typ)
    return [r for r in resources if r is not target]


def add(resources: Sequence[AnalyzedResource], resource: AnalyzedResource) -> list[AnalyzedResource]:
    return [*resources, resource]


# --- talking to the pack ---------------------------------------------------------------------

def pack_version() -> str:
    """The pack's version as the CLI reports it: PulumiPolicy.yaml's ``version``."""
    return str(yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())["version"])


class InProcess:
    """pulumi-policy's analyzer servicer for the pack, called directly (what ``PolicyPack``
    serves over gRPC, built from the same ``pack_arguments()``)."""

    def __init__(self, policies: Sequence[Any] | None = None) -> None:
        """``policies``: serve these instead of the pack's (to see what a policy is handed)."""
        from policy.policies import pack_arguments

        args = pack_arguments()
        # PolicyPack always hands the servicer "0.0.1"; the CLI uses PulumiPolicy.yaml's version.
        self.servicer = _PolicyAnalyzerServicer(
            args["name"], "0.0.1", list(policies) if policies is not None else args["policies"],
            args["enforcement_level"], None, args.get("description"))

    def call(self, method: str, request: Any) -> Any:
        return getattr(self.servicer, method)(request, None)


class Remote:
    """The pack started as the CLI starts it: ``python -u -m pulumi.policy <engine> .`` in the
    pack's folder, with the stack in the environment; spoken to over gRPC on 127.0.0.1."""

    def __init__(self, *, stack: str, project: str, preview: bool,
                 python: str = sys.executable, startup_timeout: float = 60) -> None:
        import grpc

        env = dict(os.environ) | _stack_env(stack, project, preview)
        self.stderr = tempfile.TemporaryFile()
        # The engine address is only passed through; the pack serves on a port it prints.
        self.process = subprocess.Popen(  # noqa: S603 (this repository's own pack)
            [python, "-u", "-m", "pulumi.policy", "127.0.0.1:0", "."], cwd=PACK_DIR, env=env,
            stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        self.channel = None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            ready = selector.select(timeout=startup_timeout)
        port = self.process.stdout.readline().strip() if ready else ""
        if not port.isdigit():
            self.close()
            self.stderr.seek(0)
            raise RuntimeError(f"the policy pack did not start (printed {port!r}): "
                               f"{self.stderr.read().decode(errors='replace')}")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def call(self, method: str, request: Any) -> Any:
        return getattr(self.stub, method)(request, timeout=60)

    def close(self) -> None:
        """Stop the pack (this process started it; its PID is ``self.process.pid``)."""
        if self.channel is not None:
            self.channel.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self.stderr.close()


def _stack_env(stack: str, project: str, preview: bool) -> dict[str, str]:
    """What the CLI puts in a policy pack's environment (``constructEnv`` in pulumi/pulumi)."""
    return {"PULUMI_PROJECT": project, "PULUMI_STACK": stack,
            "PULUMI_DRY_RUN": "true" if preview else "false"}


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# --- the CLI's handling of --policy-pack-config (pkg/resource/analyzer/config.go) -------------

class PolicyConfigInvalid(ValueError):
    """The CLI would refuse this config: the messages name the policy."""


def parse_config_file(data: Mapping[str, Any]) -> dict[str, tuple[str | None, dict]]:
    """A ``--policy-pack-config`` file: policy name (or ``all``) -> an enforcement level, or an
    object with an optional ``enforcementLevel`` and options."""
    parsed = {}
    for key, value in data.items():
        if isinstance(value, str):
            level, props = value, {}
        elif isinstance(value, dict):
            props = dict(value)
            level = props.pop("enforcementLevel", None)
        else:
            raise PolicyConfigInvalid(f"parsing {key!r}: {value!r} is not a string or object")
        if level is not None and level not in LEVELS:
            raise PolicyConfigInvalid(f"parsing enforcement level for {key!r}: {level!r} is not "
                                      f"a valid enforcement level")
        parsed[key] = (level, props)
    return parsed


def reconcile_config(info: Any, given: Mapping[str, tuple[str | None, dict]]) -> dict[str, tuple[str, dict]]:
    """Each policy's enforcement level and options: the policy's own, the schema's defaults,
    ``all``, then the file's per-policy values; validated against the policy's schema."""
    result: dict[str, tuple[str, dict]] = {}
    schemas = {}
    for policy in info.policies:
        props = json_format.MessageToDict(policy.configSchema.properties)
        schemas[policy.name] = {"type": "object", "properties": props,
                                "required": list(policy.configSchema.required)}
        level = analyzer_pb2.EnforcementLevel.Name(policy.enforcementLevel).lower()
        result[policy.name] = (level, {k: v["default"] for k, v in props.items() if "default" in v})
    all_level = given.get("all", (None, {}))[0]
    if all_level:
        result = {name: (all_level, props) for name, (_, props) in result.items()}
    for name, (level, props) in given.items():
        old_level, old_props = result.get(name, (None, {}))
        result[name] = (level or old_level, {**old_props, **props})
    errors = []
    for name, schema in schemas.items():
        if not schema["required"]:
            del schema["required"]
        for error in jsonschema.Draft4Validator(schema).iter_errors(result[name][1]):
            errors.append(f"{name}: {error.message}")
    if errors:
        raise PolicyConfigInvalid("; ".join(errors))
    return result


def load_config(path: Path | str) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


# --- evaluating ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Diagnostic:
    """A policy violation as the CLI receives it."""

    policy: str
    urn: str
    enforcement_level: str
    message: str
    """The policy's description, a newline, and what the policy reported."""
    pack: str
    version: str

    @property
    def resource_name(self) -> str:
        return self.urn.rsplit("::", 1)[-1] if self.urn else ""

    @property
    def resource_type(self) -> str:
        return self.urn.split("::")[2].split("$")[-1] if self.urn else ""

    @property
    def detail(self) -> str:
        """What the policy reported, without its description."""
        return self.message.split("\n", 1)[1] if "\n" in self.message else ""


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(dict(values), struct_pb2.Struct())


def _options(r: AnalyzedResource) -> Any:
    return analyzer_pb2.AnalyzerResourceOptions(protect=r.protect, parent=r.parent)


def evaluate(resources: Sequence[AnalyzedResource], *, config: Mapping[str, Any] | None = None,
             stack: str = "dev", project: str = "jwt-scoped-api", preview: bool = False,
             analyzer: InProcess | Remote | None = None) -> list[Diagnostic]:
    """Run the pack on ``resources`` as ``pulumi preview`` (``preview=True``) or ``pulumi up``
    would, with ``config`` as the ``--policy-pack-config`` file, and return its diagnostics."""
    analyzer = analyzer or InProcess()
    version = pack_version()
    info = analyzer.call("GetAnalyzerInfo", empty_pb2.Empty())
    reconciled = reconcile_config(info, parse_config_file(config or {}))
    analyzer.call("Configure", analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={
        name: analyzer_pb2.PolicyConfig(
            enforcementLevel=analyzer_pb2.EnforcementLevel.Value(level.upper()),
            properties=_struct(props))
        for name, (level, props) in reconciled.items() if name != "all"}))
    diagnostics = []

    def collect(response: Any, default_urn: str = "") -> None:
        for d in response.diagnostics:
            diagnostics.append(Diagnostic(
                d.policyName, d.urn or default_urn,
                analyzer_pb2.EnforcementLevel.Name(d.enforcementLevel).lower(), d.message,
                d.policyPackName, version))

    with _environment(_stack_env(stack, project, preview)):
        for r in resources:
            if r.custom and r.type != STACK_TYPE:
                collect(analyzer.call("Analyze", analyzer_pb2.AnalyzeRequest(
                    urn=r.urn, type=r.type, name=r.name, properties=_struct(r.inputs),
                    options=_options(r))), r.urn)  # the engine files it under the resource
        collect(analyzer.call("AnalyzeStack", analyzer_pb2.AnalyzeStackRequest(resources=[
            analyzer_pb2.AnalyzerResource(
                urn=r.urn, type=r.type, name=r.name, properties=_struct(r.state),
                options=_options(r), parent=r.parent, dependencies=list(r.dependencies),
                propertyDependencies={
                    k: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(v))
                    for k, v in r.property_dependencies.items() if v})
            for r in resources])))
    return diagnostics


# --- showing them as the CLI does --------------------------------------------------------------

def display_type(token: str) -> str:
    """A type token as the CLI shows it: ``aws:apigatewayv2/route:Route`` ->
    ``aws:apigatewayv2:Route`` (pulumi's ``tokens.Type.DisplayName``)."""
    parts = token.split(":")
    if len(parts) != 3 or "/" not in parts[1]:
        return token
    package, module, name = parts
    base, last = module.rsplit("/", 1)
    return f"{package}:{base}:{name}" if last.lower() == name.lower() else token


def render(diagnostics: Sequence[Diagnostic], *, pack: str, version: str,
           local_path: str = "policy") -> str:
    """The "Policies:" section ``pulumi preview`` prints for the pack (no colours)."""
    mark = "✅"
    if diagnostics:
        mark = "❌" if any(d.enforcement_level == "mandatory" for d in diagnostics) else "⚠️"
    lines = ["Policies:", f"    {mark} {pack}@v{version} (local: {local_path})"]
    for d in sorted(diagnostics, key=lambda d: (d.enforcement_level, d.policy, d.urn)):
        lines.append(f"        - [{d.enforcement_level}]  {d.policy}  "
                     f"({display_type(d.resource_type)}: {d.resource_name})")
        lines += [f"          {line}" for line in d.message.split("\n")]
    return "\n".join(lines) + "\n"
