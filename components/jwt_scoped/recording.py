"""Run the Pulumi program, or any component, under Pulumi's mocked provider and record
everything it registers.

The mocks answer the way AWS does where the program depends on it (pool IDs are
``<region>_<id>``, the pool ``endpoint`` has no scheme, app client IDs are 26 characters, stage
URLs end in the stage name), so applies that parse those values run for real.

Each registration also records what the engine learns about the stack graph (URN, parent,
dependencies, property dependencies, ``protect``) and the inputs exactly as the SDK sent them.
With ``preview=True`` the mocks answer as the engine does in a preview of a new stack: no IDs and
no computed outputs, so every value derived from another resource's output arrives unknown.
"""

from __future__ import annotations

import hashlib
import json
import os
import runpy
import string
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi
from google.protobuf import json_format
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockMonitor

from . import aws_types as T
from .project import REGION_KEY, Project
from .rules import DEFAULT_STAGE

ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
"""The region of a stack whose config names none (the AWS provider would read AWS_REGION)."""


# How the SDK marks a secret value it sends to the engine (pulumi.runtime.rpc).
SECRET_KEY, SECRET_SIG = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"


def secret_value(value: Any) -> Any:
    """The plain value of an input the SDK sent as a secret; fails if it was sent in clear."""
    assert isinstance(value, dict) and value.get(SECRET_KEY) == SECRET_SIG, (
        f"expected a secret, got {value!r}")
    return value["value"]


def reveal(value: Any) -> Any:
    """``value`` with every secret the SDK sent unwrapped to its plain value (a provider sees
    plain values; the SDK marks secrets only on the wire)."""
    if isinstance(value, dict):
        if value.get(SECRET_KEY) == SECRET_SIG:
            return reveal(value.get("value"))
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def _token(name: str, length: int, alphabet: str = "abcdefghijklmnopqrstuvwxyz0123456789") -> str:
    digest = hashlib.sha512(name.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest)[:length]


@dataclass
class Registered:
    """One resource as the program registered it: inputs arrive camelCase."""

    type: str
    name: str
    inputs: dict
    outputs: dict
    id: str
    urn: str = ""
    """The URN the (mocked) engine gave the resource."""
    parent_urn: str = ""
    """URN of the parent resource (the stack for top-level resources)."""
    dependencies: tuple[str, ...] = ()
    """URNs of every resource this one depends on (its inputs' sources and ``depends_on``)."""
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Input name -> URNs of the resources its value came from."""
    wire_inputs: dict = field(default_factory=dict)
    """The inputs as the SDK sent them to the engine, in JSON form: a value still unknown (in a
    preview) is Pulumi's unknown sentinel; secrets and assets keep their signature objects."""
    protect: bool = False
    """Registered with ``ResourceOptions(protect=True)``."""
    custom: bool = True
    """Managed by a provider (``False`` for component resources)."""
    aliases: tuple[dict, ...] = ()
    """The aliases registered with it, as the engine receives them (``{"spec": {"type": ...}}``)."""


class LocalProvider(Protocol):
    """What ``RecordingMocks`` can delegate resource creation to (the local sandbox does)."""

    def create(self, typ: str, name: str, inputs: dict) -> tuple[str, dict] | None:
        """Create the resource; return its ``(id, outputs)``, or ``None`` for a type this
        provider does not model (the mocks then answer with their AWS-shaped fakes)."""


InputEdit = Callable[[str, str, dict], "dict | None"]
"""``edit(type, name, inputs)`` -> the inputs to create the resource with, or ``None``: the
resource is never created (the program still gets an id for it, as if the provider had
silently dropped it). Lets a test plant one wiring fault in what the program registers."""


class RecordingMocks(pulumi.runtime.Mocks):
    """Records every resource the program registers and answers with AWS-shaped outputs.

    ``provider``: create resources there instead (the fakes still answer for types it does not
    model). ``edit``: change (or drop) a resource's inputs before it is created. The SDK
    registers resources from a thread pool: creation is serialised here, so neither the
    provider nor the record needs locks of its own.
    """

    def __init__(self, region: str = "us-east-1", *, preview: bool = False,
                 provider: LocalProvider | None = None, edit: InputEdit | None = None):
        self.region = region
        self.preview = preview
        """Answer as a preview of a new stack does: no ID, outputs are just the inputs."""
        self.provider = provider
        self.edit = edit
        self.registered: list[Registered] = []
        self.dropped: list[Registered] = []
        """Resources that ``edit`` dropped: registered by the program, never created."""
        self._lock = threading.Lock()
        self._current = threading.local()  # the registration in progress on this thread

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        with self._lock:
            inputs = dict(args.inputs)
            if self.edit is not None:
                edited = self.edit(args.typ, args.name, dict(inputs))
                if edited is None:
                    rid, outputs = self.fake(args.typ, args.name, inputs)
                    self.dropped.append(Registered(args.typ, args.name, inputs, outputs, rid))
                    return [rid, outputs]
                inputs = edited
            created = (self.provider.create(args.typ, args.name, inputs)
                       if self.provider is not None else None)
            rid, outputs = created if created is not None else self.fake(args.typ, args.name,
                                                                          inputs)
            if self.preview:  # the provider computes nothing before the resource exists
                rid, outputs = "", dict(inputs)
            registered = Registered(args.typ, args.name, dict(inputs), outputs, rid)
            self.registered.append(registered)
            self._current.registered = registered
            return [rid, outputs]

    def fake(self, typ: str, name: str, inputs: dict) -> tuple[str, dict]:
        """The AWS-shaped id and outputs of a resource nobody created."""
        outputs = dict(inputs)
        region = self.region
        rid = f"{name}-id"
        arn = f"arn:aws:{typ.split(':')[1].split('/')[0]}:{region}:{ACCOUNT}:{name}"
        if typ == T.USER_POOL:
            rid = f"{region}_{_token(name, 9, string.ascii_letters + string.digits)}"
            arn = f"arn:aws:cognito-idp:{region}:{ACCOUNT}:userpool/{rid}"
            outputs["endpoint"] = f"cognito-idp.{region}.amazonaws.com/{rid}"
        elif typ == T.USER_POOL_CLIENT:
            rid = _token(name, 26)
            if inputs.get("generateSecret"):  # a confidential client has a secret output
                outputs["clientSecret"] = _token(f"{name}-secret", 51)
        elif typ == T.FUNCTION:
            fname = f"{name}-{_token(name, 7)}"
            arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{fname}"
            outputs["name"] = fname
            outputs["invokeArn"] = T.lambda_invoke_arn(region, arn)
            rid = fname
        elif typ == T.LOG_GROUP:
            rid = outputs.get("name") or f"{outputs.get('namePrefix', name)}{_token(name, 8)}"
            outputs["name"] = rid
            arn = f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{rid}"
        elif typ == T.ROLE:
            arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
            outputs["name"] = rid
        elif typ == T.API:
            rid = _token(name, 10)
            outputs["apiEndpoint"] = f"https://{rid}.execute-api.{region}.amazonaws.com"
            outputs["executionArn"] = f"arn:aws:execute-api:{region}:{ACCOUNT}:{rid}"
        elif typ == T.STAGE:
            api = inputs["apiId"]
            stage = inputs["name"]
            outputs["invokeUrl"] = (f"https://{api}.execute-api.{region}.amazonaws.com/"
                                    f"{'' if stage == DEFAULT_STAGE else stage}")
        elif typ in (T.RANDOM_PASSWORD, T.RANDOM_STRING):
            outputs["result"] = _token(name, int(inputs.get("length", 16)))
        outputs.setdefault("arn", arn)
        return rid, outputs

    def take_current(self) -> Registered | None:
        """The resource ``new_resource`` just recorded on this thread (the monitor calls it
        synchronously, on the registering thread)."""
        registered, self._current.registered = getattr(self._current, "registered", None), None
        return registered


class RecordingMonitor(MockMonitor):
    """Pulumi's mock engine, also recording what each registration tells the engine about the
    stack graph: URN, parent, dependencies and property dependencies, and the wire inputs."""

    def __init__(self, mocks: RecordingMocks):
        super().__init__(mocks)
        self.stack_urn = ""

    def RegisterResource(self, request):  # noqa: N802 (the gRPC method's name)
        response = super().RegisterResource(request)
        if request.type == T.STACK:
            self.stack_urn = response.urn
            return response
        registered = self.mocks.take_current()
        if registered is not None:
            registered.urn = response.urn
            registered.parent_urn = request.parent
            registered.dependencies = tuple(request.dependencies)
            registered.property_dependencies = {
                key: tuple(deps.urns) for key, deps in request.propertyDependencies.items()}
            registered.wire_inputs = json_format.MessageToDict(request.object)
            registered.protect = request.protect
            registered.custom = request.custom
            registered.aliases = tuple(json_format.MessageToDict(a) for a in request.aliases)
        return response


@dataclass
class Run:
    """What one run registered and exported; ``secret`` says which exports are secret."""

    registered: list[Registered]
    exports: dict[str, Any] = field(default_factory=dict)
    secret: dict[str, bool] = field(default_factory=dict)
    result: Any = None
    protected: set[str] = field(default_factory=set)
    """Names of resources registered with ``ResourceOptions(protect=True)``."""
    parents: dict[str, str] = field(default_factory=dict)
    """Resource name -> its parent's name, for resources registered with a parent."""
    stack_urn: str = ""
    """URN of the stack resource, the root of the graph."""
    preview: bool = False
    """Recorded as a preview of a new stack: IDs and computed outputs unknown."""

    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.registered if r.type == typ]

    def one(self, typ: str) -> Registered:
        found = self.of_type(typ)
        assert len(found) == 1, f"expected one {typ}, found {[r.name for r in found]}"
        return found[0]

    def named(self, name: str) -> Registered:
        found = [r for r in self.registered if r.name == name]
        assert len(found) == 1, f"expected one resource named {name!r}, found {len(found)}"
        return found[0]

    def by_id(self, typ: str, rid: str) -> Registered:
        found = [r for r in self.of_type(typ) if r.id == rid]
        assert len(found) == 1, f"expected one {typ} with id {rid!r}"
        return found[0]


def flatten_config(stack_config: dict[str, Any]) -> dict[str, str]:
    """Stack config as Pulumi hands it to a program: every value a string, structures as JSON."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in stack_config.items()}


def run_pulumi(body: Callable[[], Any], config: dict[str, Any] | None = None, *,
               stack: str = "dev", project: str = "jwt-scoped-api",
               mocks: RecordingMocks | None = None, preview: bool = False) -> Run:
    """Run ``body`` as a Pulumi program (as an update, so every apply runs) and resolve what
    it exported, or the Output it returned, into plain values. Pass ``mocks`` to see what was
    registered even when ``body`` raises.

    ``preview=True`` runs it as ``pulumi preview`` of a new stack: applies on values the
    provider computes never run, so nothing is exported; use it to record the graph and the
    inputs the engine (and a policy pack) would see then."""
    config = config or {}
    mocks = mocks or RecordingMocks(region=config.get(REGION_KEY, DEFAULT_REGION), preview=preview)
    runtime_settings.ROOT.set(None)  # a fresh root stack: no exports left from another run
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
    pulumi.runtime.set_all_config(flatten_config(config))
    run = Run(mocks.registered, preview=preview)
    declared: dict[tuple[str, str], int] = {}

    def record_options(args: pulumi.ResourceTransformationArgs):
        declared.setdefault((args.type_, args.name), len(declared))
        if args.opts and args.opts.protect:
            run.protected.add(args.name)
        if args.opts and args.opts.parent is not None:
            run.parents[args.name] = args.opts.parent.pulumi_resource_name
        return None

    @pulumi.runtime.test
    def program():
        pulumi.runtime.register_stack_transformation(record_options)
        result = body()
        stack_resource = runtime_settings.get_root_resource()
        exports = dict(stack_resource.outputs)
        names = list(exports)

        def record(values):
            resolved, secrets, returned = values
            run.exports.update(zip(names, resolved, strict=True))
            run.secret.update(zip(names, secrets, strict=True))
            run.result = returned

        return pulumi.Output.all(
            pulumi.Output.all(*[exports[n] for n in names]),
            pulumi.Output.all(*[pulumi.Output.from_input(exports[n]).is_secret() for n in names]),
            pulumi.Output.from_input(result)).apply(record)

    program()
    # The SDK registers a resource once its inputs resolve, in no fixed order: keep the order
    # the program declared them in (the transformation runs as each is constructed).
    run.registered.sort(key=lambda r: declared.get((r.type, r.name), len(declared)))
    run.stack_urn = monitor.stack_urn
    return run


def run_program(project: Project, config: dict[str, Any], **kwargs) -> Run:
    """The project's program (``__main__.py`` in its folder) with ``config`` as its stack
    config, run as Pulumi's Python language host runs it: named ``__main__``, with the program's
    folder as the working directory and first on ``sys.path``. Modules the program imports from
    its own folder are forgotten afterwards, so another project's program of the same module
    names can run next in this process."""
    folder = str(project.main)
    before = set(sys.modules)
    saved_cwd, saved_path = os.getcwd(), list(sys.path)
    os.chdir(folder)
    sys.path.insert(0, folder)
    try:
        return run_pulumi(lambda: runpy.run_path(str(project.program), run_name="__main__") and None,
                          config, project=project.name, **kwargs)
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        for name in set(sys.modules) - before:
            if _from_folder(sys.modules[name], name, folder):
                del sys.modules[name]


def _from_folder(module: Any, name: str, folder: str) -> bool:
    """Whether ``module`` was imported from ``folder`` itself (``folder/<name>.py`` or a package
    ``folder/<name>/``), not from a virtualenv or another source root below it."""
    origin = getattr(module, "__file__", None)
    if not origin:
        return False
    top = os.path.join(folder, name.split(".")[0])
    return origin == top + ".py" or origin.startswith(top + os.sep)
