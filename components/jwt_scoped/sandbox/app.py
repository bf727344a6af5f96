"""The sandbox: a program run under Pulumi's mocks with the local provider, then served.

``Sandbox(stack).start()``:

1. binds the API's port (a port in use fails here, before anything else starts), and takes its
   own folder, ``.sandbox/<stack>-<port>/`` in the project (another sandbox of the same stack
   and port still running is refused; one killed earlier leaves files that are cleared now);
2. runs the program with the stack's config (``jwt_scoped.recording.run_program``) under
   ``RecordingMocks`` whose provider is ``SandboxProvider``: Cognito resources are created in moto
   (started on first use), functions unpacked, permissions and API resources recorded, so every
   output the program computes comes from local ids. A config the program refuses raises
   ``ProgramError`` with the program's own message, and nothing is left running;
3. starts one warm worker per function, then serves every HTTP API on the edge
   (``sandbox/edge.py``);
4. writes, in its folder, ``outputs.json`` (what ``pulumi stack output --json --show-secrets``
   would print, plus ``sandbox``: the local endpoints) and ``state.json`` (what ``pulumi stack
   export --show-secrets`` would: every resource with its local id and outputs), which
   ``jwt-scoped verify --state`` and ``jwt-scoped token`` read; the functions log to ``logs/``.

``stop`` stops the edge (releasing the ports), the workers and moto, and removes the outputs,
the state and the unpacked archives; the logs stay until the next run of the same stack and
port. ``edit`` (see ``jwt_scoped.recording.InputEdit``) changes or drops resources before they
are created: how the tests plant one wiring fault at a time. ``intercept`` lets a test answer
requests in the gateway's place (see ``Gateway``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from jwt_scoped.access.matrix import AccessMatrix, build_matrix
from jwt_scoped.access.model import StackModel, resources_of_state, stack_model
from jwt_scoped.access.plan import Stack, run_stack
from jwt_scoped.access.state import COGNITO_ENDPOINT, LOCAL_OUTPUTS, SANDBOX_KEY, USER_POOLS
from jwt_scoped.cognito_urls import DISCOVERY_PATH, domain_url
from jwt_scoped.modes import JWT_AUTHORIZATION, NO_AUTHORIZATION
from jwt_scoped.project import REGION_KEY
from jwt_scoped.recording import ACCOUNT, DEFAULT_REGION, InputEdit, RecordingMocks, Registered, Run

from .apis import LocalApis
from .cognito import LocalCognito
from .edge import Edge, PortInUse, bind, url_of
from .gateway import PAYLOAD_FORMAT, Gateway, GatewayApp
from .hosted_ui import HostedUi, HostedUiApp
from .jwt_authorizer import JwksKeys
from .lambdas import LocalLambda
from .payload import HttpAnswer, Request
from .provider import SandboxProvider
from .web import WebApp, WebError, web_config, web_port

RUN_ROOT = ".sandbox"
"""The sandboxes' folder in the project (git-ignored)."""
OUTPUTS_FILE, STATE_FILE, LOGS_DIR, PID_FILE = "outputs.json", "state.json", "logs", "pid"


class SandboxError(Exception):
    """The sandbox cannot start; the message is one line for the user."""


def outputs_json(outputs: dict[str, Any]) -> str:
    """Stack outputs as ``pulumi stack output --json --show-secrets`` prints them: one JSON
    object, keys sorted, two-space indents."""
    return json.dumps(outputs, indent=2, sort_keys=True) + "\n"


def state_document(run: Run, sandbox: dict[str, Any]) -> dict[str, Any]:
    """What ``pulumi stack export --show-secrets`` prints for a stack, from a sandbox's run:
    version 3, every resource with its URN, type, id, parent, inputs and outputs, the stack's
    outputs on the stack resource; and ``sandbox``, the local endpoints."""
    resources = [{"urn": run.stack_urn, "custom": False, "type": "pulumi:pulumi:Stack",
                  "outputs": dict(run.exports)}]
    resources += [_state_entry(r) for r in run.registered]
    return {"version": 3, "deployment": {"manifest": {"sandbox": True}, "resources": resources},
            SANDBOX_KEY: sandbox}


def _state_entry(registered: Registered) -> dict[str, Any]:
    entry = {"urn": registered.urn, "custom": registered.custom, "type": registered.type,
             "inputs": registered.inputs, "outputs": registered.outputs,
             "parent": registered.parent_urn}
    if registered.custom:
        entry["id"] = registered.id
    return entry


def _state_value(value: Any) -> Any:
    """A value JSON cannot hold, as a state file shows it: an archive by its files, an asset by
    its path (Pulumi's state keeps their hashes and paths, not their bytes)."""
    import pulumi

    if isinstance(value, pulumi.AssetArchive):
        return {"assets": {name: _state_value(item) for name, item in value.assets.items()}}
    if isinstance(value, (pulumi.FileAsset, pulumi.FileArchive)):
        return {"path": value.path}
    if isinstance(value, pulumi.StringAsset):
        return {"text": value.text}
    return repr(value)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pid_of(folder: Path) -> int | None:
    try:
        return int((folder / PID_FILE).read_text())
    except (OSError, ValueError):
        return None


def clear_stale(run_root: Path) -> None:
    """What sandboxes that were killed (``kill -9``) left: their outputs, state and archives."""
    for folder in run_root.glob("*"):
        pid = _pid_of(folder)
        if pid is not None and not _alive(pid):
            _clear(folder)


def _clear(folder: Path) -> None:
    for name in (OUTPUTS_FILE, STATE_FILE, PID_FILE):
        with contextlib.suppress(FileNotFoundError):
            (folder / name).unlink()
    shutil.rmtree(folder / "functions", ignore_errors=True)


class AccessLog:
    """Where the gateway's access-log lines go: a stream (the terminal) or a file."""

    def __init__(self, target: TextIO | Path | None):
        self._lock = threading.Lock()
        self._file = None
        self.stream = target
        self.target = target

    def open(self) -> None:
        if isinstance(self.target, Path):
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.target, "a", encoding="utf-8")  # closed in close()
            self.stream = self._file

    def __call__(self, line: str) -> None:
        if self.stream is None or isinstance(self.stream, Path):
            return
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class Sandbox:
    def __init__(self, stack: Stack, *, config: dict[str, Any] | None = None, port: int = 8080,
                 run_root: Path | None = None, access_log: TextIO | Path | None = None,
                 edit: InputEdit | None = None, max_concurrency: int = 4,
                 intercept: Callable[[Request], HttpAnswer | None] | None = None,
                 web: Path | None = None):
        """``config``: the stack's config (default: read from its stack file); ``run_root``:
        where the sandbox's folder goes (default ``.sandbox`` in the project); ``web``: a
        browser app's folder, served at its callback URL's origin (``sandbox/web.py``)."""
        self.stack = stack
        self.config = stack.config() if config is None else dict(config)
        self.port = port
        self.region = str(self.config.get(REGION_KEY) or DEFAULT_REGION)
        self.run_root = Path(run_root) if run_root is not None else stack.project.root / RUN_ROOT
        self.access_log = AccessLog(access_log)
        self.edit = edit
        self.intercept = intercept
        self.max_concurrency = max_concurrency
        self.web = web
        self.web_url: str | None = None
        self.run: Run | None = None
        self.outputs: dict[str, Any] = {}
        self.startup_seconds: float | None = None
        self.folder: Path | None = None
        self.api_urls: dict[str, str] = {}
        self.edge = Edge()
        self._sockets: dict[str, Any] = {}
        self._web_socket = None
        self._listener = None
        self.lambdas: LocalLambda | None = None
        self.cognito: LocalCognito | None = None
        self.apis: LocalApis | None = None
        self.hosted_uis: dict[str, HostedUi] = {}
        self.mocks: RecordingMocks | None = None
        self.model: StackModel | None = None
        self._stopped = threading.Event()

    # -- lifecycle --

    def start(self) -> Sandbox:
        started = time.perf_counter()
        try:
            self._listener = bind(self.port)
        except PortInUse as error:
            raise SandboxError(str(error)) from None
        try:
            self._take_folder()
            self._build()
            self._check_stopped()
            self.lambdas.start()
            self._check_stopped()
            self._serve()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.perf_counter() - started
        return self

    def _check_stopped(self) -> None:
        """``stop`` was called while starting (Ctrl-C): go no further."""
        if self._stopped.is_set():
            raise KeyboardInterrupt

    @property
    def bound_port(self) -> int:
        return self._listener.getsockname()[1]

    def _take_folder(self) -> None:
        self.run_root.mkdir(parents=True, exist_ok=True)
        clear_stale(self.run_root)
        folder = self.run_root / f"{self.stack.name}-{self.bound_port}"
        pid = _pid_of(folder)
        if pid is not None and pid != os.getpid() and _alive(pid):
            raise SandboxError(f"a sandbox of stack {self.stack.name} on port {self.bound_port} "
                               f"is running already (pid {pid})")
        _clear(folder)
        shutil.rmtree(folder / LOGS_DIR, ignore_errors=True)  # this run's logs only
        (folder / LOGS_DIR).mkdir(parents=True)
        (folder / PID_FILE).write_text(str(os.getpid()))
        self.folder = folder
        if self.access_log.target is None:
            self.access_log = AccessLog(folder / LOGS_DIR / "access.log")
        self.access_log.open()

    def _build(self) -> None:
        self.lambdas = LocalLambda(self.region, ACCOUNT, self.folder / "functions",
                                   self.folder / LOGS_DIR, max_concurrency=self.max_concurrency)
        self.cognito = LocalCognito(self.region, self.lambdas)
        self.apis = LocalApis(self.region, ACCOUNT)
        provider = SandboxProvider(self.region, ACCOUNT, self.lambdas, self.cognito, self.apis,
                                   self._endpoint_for)
        self.mocks = RecordingMocks(self.region, provider=provider, edit=self.edit)
        self.run = run_stack(self.stack, self.config, mocks=self.mocks)

    def _endpoint_for(self, api_id: str) -> str:
        """The first API answers on the port asked for; any other on a free port."""
        sock = self._listener if not self._sockets else bind(0)
        self._sockets[api_id] = sock
        self.api_urls[api_id] = url_of(sock)
        return self.api_urls[api_id]

    def _serve(self) -> None:
        for domain, pool_id in self.cognito.domains.items():
            sock = bind(0)
            self.hosted_uis[domain] = HostedUi(self.cognito, domain, pool_id)
            self.edge.serve(HostedUiApp(self.hosted_uis[domain]), sock)
            self.cognito.domain_urls[domain] = url_of(sock)
        self.cognito.serve(self.edge, bind(0))
        keys = JwksKeys(self._jwks_url)
        for api_id, sock in self._sockets.items():
            api = self.apis.apis[api_id]
            self._prefetch_keys(api.id, keys)
            gateway = Gateway(api, self.apis, self.lambdas, keys, self.access_log,
                              intercept=self.intercept)
            self.edge.serve(GatewayApp(gateway), sock)
        local = {COGNITO_ENDPOINT: self.cognito.endpoint, "region": self.region,
                 "api_urls": dict(self.api_urls), USER_POOLS: self._pools_block(),
                 LOCAL_OUTPUTS: self._local_outputs()}
        self.outputs = {**self.run.exports, SANDBOX_KEY: local}
        document = state_document(self.run, local)
        self.model = stack_model(resources_of_state(document), {SANDBOX_KEY: local})
        if self.web is not None:
            self._serve_web()
        (self.folder / OUTPUTS_FILE).write_text(outputs_json(self.outputs), encoding="utf-8")
        (self.folder / STATE_FILE).write_text(
            json.dumps(document, indent=2, default=_state_value) + "\n", encoding="utf-8")

    def _serve_web(self) -> None:
        try:
            port = web_port(self.model)
            config = web_config(self.model, self.matrix)
            sock = bind(port)
        except (WebError, PortInUse) as error:
            raise SandboxError(f"cannot serve the web app {self.web}: {error}") from None
        self._web_socket = sock
        self.edge.serve(WebApp(self.web, config), sock)
        self.web_url = f"http://localhost:{port}/"

    def _pools_block(self) -> dict[str, dict[str, Any]]:
        cognito = self.cognito
        return {pool_id: {
            "issuer": cognito.issuer_of(pool_id), "local_issuer": cognito.local_issuer(pool_id),
            "discovery_url": cognito.local_issuer(pool_id) + DISCOVERY_PATH,
            "domains": {d: cognito.domain_urls[d] for d, p in cognito.domains.items()
                        if p == pool_id}} for pool_id in cognito.pools}

    def _local_outputs(self) -> dict[str, str]:
        """Each string output naming a domain's hosted UI on AWS, with the local hosted UI."""
        bases = {domain_url(d, self.region): url for d, url in self.cognito.domain_urls.items()}
        out = {}
        for name, value in self.run.exports.items():
            for aws_base, local_base in bases.items():
                if isinstance(value, str) and value.startswith(aws_base):
                    out[name] = local_base + value[len(aws_base):]
        return out

    def _prefetch_keys(self, api_id: str, keys: JwksKeys) -> None:
        """Fetch each local issuer's keys now, so the first request finds them."""
        for authorizer in self.apis.authorizers.values():
            if authorizer.api_id == api_id and authorizer.issuer and self._jwks_url(
                    authorizer.issuer):
                keys.load(authorizer.issuer)

    def _jwks_url(self, issuer: str) -> str | None:
        """A Cognito issuer ``https://cognito-idp.<region>.amazonaws.com/<poolId>`` of a pool
        of this sandbox publishes its keys at moto's ``/<poolId>/.well-known/jwks.json``."""
        if self.cognito is None or self.cognito.endpoint is None:
            return None
        for pool_id in self.cognito.pools:
            if issuer == f"https://cognito-idp.{self.region}.amazonaws.com/{pool_id}":
                return f"{self.cognito.endpoint}/{pool_id}/.well-known/jwks.json"
        return None

    def stop(self) -> None:
        """Stop everything this sandbox started; safe to call twice, and from another thread
        while it starts."""
        self._stopped.set()
        self.edge.stop()
        for sock in [*self._sockets.values(), self._listener, self._web_socket]:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        self._sockets.clear()
        self._listener = self._web_socket = None
        if self.lambdas is not None:
            self.lambdas.stop()
        if self.cognito is not None:
            self.cognito.stop()
        self.access_log.close()
        if self.folder is not None:
            _clear(self.folder)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what it serves --

    @property
    def matrix(self) -> AccessMatrix:
        """The expected matrix of what this sandbox serves, with its real local ids."""
        return build_matrix(self.model, placeholders=False)

    def warnings(self) -> list[str]:
        """What the local stand-ins serve differently from AWS, or not at all, for this stack."""
        out = []
        for authorizer in self.apis.authorizers.values():
            if authorizer.type == JWT_AUTHORIZATION and authorizer.issuer and not self._jwks_url(
                    authorizer.issuer):
                out.append(f"authorizer {authorizer.name}: issuer {authorizer.issuer} is not a "
                           "Cognito pool of this sandbox; its keys cannot be fetched here, so "
                           "every token gets 401")
            elif authorizer.type != JWT_AUTHORIZATION:
                out.append(f"authorizer {authorizer.name}: {authorizer.type} authorizers are not "
                           "modelled; its routes answer 403")
        for stage in self.apis.stages.values():
            if not stage.deployed:
                out.append(f"stage {stage.name}: no autoDeploy and no deployment, so it serves "
                           "nothing (404), as on AWS")
            out += [f"stage {stage.name}: {name} is not modelled by the sandbox"
                    for name in stage.unmodelled]
        for route in self.apis.routes.values():
            if route.authorization_type not in (NO_AUTHORIZATION, JWT_AUTHORIZATION):
                out.append(f"route {route.key}: authorization {route.authorization_type} is not "
                           "modelled; it answers 403")
        for integration in self.apis.integrations.values():
            if integration.type != "AWS_PROXY":
                out.append(f"integration {integration.id}: type {integration.type} is not "
                           "modelled; its routes answer 500")
            elif integration.payload_format != PAYLOAD_FORMAT:
                out.append(f"integration {integration.id}: payload format "
                           f"{integration.payload_format} is not modelled (the components set "
                           f"{PAYLOAD_FORMAT}); its routes answer 500")
        return out

    @property
    def api_url(self) -> str:
        """The first API's stage URL (the one the port asked for serves)."""
        api = self.model.apis[0] if self.model and self.model.apis else None
        return api.invoke_url if api and api.invoke_url else next(iter(self.api_urls.values()), "")

    @property
    def cognito_endpoint(self) -> str:
        return self.cognito.endpoint

    @property
    def state_file(self) -> Path:
        return self.folder / STATE_FILE

    @property
    def outputs_file(self) -> Path:
        return self.folder / OUTPUTS_FILE

    @property
    def logs_dir(self) -> Path:
        return self.folder / LOGS_DIR
