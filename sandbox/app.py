"""The sandbox: the real program run under Pulumi's mocks with the local provider, then served.

``Sandbox(config).start()``:

1. binds the gateway's port (a port in use fails here, before anything else starts);
2. runs ``__main__.py`` with the stack's config (``offline.recording.run_program``) under
   ``RecordingMocks`` whose provider is ``SandboxProvider``: Cognito resources are created in moto
   (started on first use), functions unpacked, permissions and API resources recorded, so every
   output the program computes comes from local ids. A config the program refuses raises
   ``ProgramError`` with the program's own message, and nothing is left running;
3. starts one warm worker per function, then the gateway;
4. ``outputs`` is then what ``pulumi stack output --json --show-secrets`` would print, plus
   ``sandbox``: the local Cognito endpoint and the region.

``stop`` stops the gateway (releasing the port), the workers, and moto, and removes the unpacked
archives. ``edit`` (see ``offline.recording.InputEdit``) changes or drops resources before they
are created: how the tests plant one wiring fault at a time. ``intercept`` lets a test answer
requests in the gateway's place (see ``Gateway``).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import pulumi

from offline.recording import ACCOUNT, InputEdit, RecordingMocks, Run, run_program
from program import outputs as stack_outputs

from .apis import Api, LocalApis
from .cognito import LocalCognito
from .gateway import Gateway, GatewayServer, PortInUse
from .jwt_authorizer import JwksKeys
from .lambdas import LocalLambda
from .payload import HttpAnswer, Request
from .provider import SandboxProvider

DEFAULT_REGION = "us-east-1"
HOST = "127.0.0.1"


class SandboxError(Exception):
    """The sandbox cannot start; the message is one line (or the program's own) for the user."""


class ProgramError(SandboxError):
    """The program refused the stack config (or failed): its own message."""


def outputs_json(outputs: dict[str, Any]) -> str:
    """Stack outputs as ``pulumi stack output --json --show-secrets`` prints them: one JSON
    object, keys sorted, two-space indents."""
    return json.dumps(outputs, indent=2, sort_keys=True) + "\n"


class AccessLog:
    """Where the gateway's access-log lines go: a stream (the terminal) or a file."""

    def __init__(self, target: TextIO | Path | None):
        self._lock = threading.Lock()
        self._file = None
        if isinstance(target, Path):
            target.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(target, "a", encoding="utf-8")  # closed in close()
            self.stream = self._file
        else:
            self.stream = target

    def __call__(self, line: str) -> None:
        if self.stream is None:
            return
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class Sandbox:
    def __init__(self, config: dict[str, Any], *, stack: str = "dev", port: int = 8080,
                 logs_dir: Path | None = None, access_log: TextIO | Path | None = None,
                 edit: InputEdit | None = None, max_concurrency: int = 4,
                 intercept: Callable[[Request], HttpAnswer | None] | None = None):
        self.config = config
        self.stack = stack
        self.port = port
        self.region = str(config.get("aws:region") or DEFAULT_REGION)
        self.logs_dir = logs_dir
        self.access_log = AccessLog(access_log)
        self.edit = edit
        self.intercept = intercept
        self.max_concurrency = max_concurrency
        self.run: Run | None = None
        self.outputs: dict[str, Any] = {}
        self.startup_seconds: float | None = None
        self.servers: dict[str, GatewayServer] = {}
        self._listener: GatewayServer | None = None
        self._workdir: Path | None = None
        self.lambdas: LocalLambda | None = None
        self.cognito: LocalCognito | None = None
        self.apis: LocalApis | None = None
        self.mocks: RecordingMocks | None = None

    # -- lifecycle --

    def start(self) -> Sandbox:
        started = time.perf_counter()
        try:
            self._listener = GatewayServer(self.port, HOST)
        except PortInUse as error:
            raise SandboxError(str(error)) from None
        try:
            self._build()
            self.lambdas.start()
            self._serve()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.perf_counter() - started
        return self

    def _build(self) -> None:
        self._workdir = Path(tempfile.mkdtemp(prefix="jwt-scoped-api-sandbox-"))
        logs = self.logs_dir or self._workdir / "logs"
        self.lambdas = LocalLambda(self.region, ACCOUNT, self._workdir / "functions", logs,
                                   max_concurrency=self.max_concurrency)
        self.cognito = LocalCognito(self.region, self.lambdas)
        self.apis = LocalApis(self.region, ACCOUNT)
        provider = SandboxProvider(self.region, ACCOUNT, self.lambdas, self.cognito, self.apis,
                                   self._endpoint_for)
        self.mocks = RecordingMocks(self.region, provider=provider, edit=self.edit)
        try:
            self.run = run_program(self.config, stack=self.stack, mocks=self.mocks)
        except pulumi.RunError as error:
            raise ProgramError(str(error)) from None
        except ValueError as error:  # a component refusing its arguments
            raise ProgramError(str(error)) from None
        except Exception as error:  # noqa: BLE001 -- a resource the local stand-ins refused
            raise SandboxError(f"creating the stack's resources failed: "
                               f"{type(error).__name__}: {error}") from error

    def _endpoint_for(self, api_id: str) -> str:
        """The first API answers on the port asked for; any other on a free port."""
        if self._listener is not None:
            server, self._listener = self._listener, None
        else:
            server = GatewayServer(0, HOST)
        self.servers[api_id] = server
        return server.url

    def _serve(self) -> None:
        keys = JwksKeys(self._jwks_url)
        for api_id, server in self.servers.items():
            api = self.apis.apis[api_id]
            self._prefetch_keys(api, keys)
            server.serve(Gateway(api, self.apis, self.lambdas, keys, self.access_log,
                                 intercept=self.intercept))
        self.outputs = {**self.run.exports,
                        "sandbox": {"cognito_endpoint": self.cognito.endpoint,
                                    "region": self.region}}

    def _prefetch_keys(self, api: Api, keys: JwksKeys) -> None:
        """Fetch each local issuer's keys now, so the first request finds them."""
        for authorizer in self.apis.authorizers.values():
            if authorizer.api_id == api.id and authorizer.issuer and self._jwks_url(
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
        """Stop everything this sandbox started; safe to call twice."""
        for server in list(self.servers.values()):
            server.stop()
        self.servers.clear()
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        if self.lambdas is not None:
            self.lambdas.stop()
        if self.cognito is not None:
            self.cognito.stop()
        self.access_log.close()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what it serves --

    def warnings(self) -> list[str]:
        """What the local stand-ins serve differently from AWS, or not at all, for this stack."""
        out = []
        for authorizer in self.apis.authorizers.values():
            if authorizer.type == "JWT" and authorizer.issuer and not self._jwks_url(
                    authorizer.issuer):
                out.append(f"authorizer {authorizer.name}: issuer {authorizer.issuer} is not a "
                           "Cognito pool of this sandbox; its keys cannot be fetched here, so "
                           "every token gets 401")
            elif authorizer.type != "JWT":
                out.append(f"authorizer {authorizer.name}: {authorizer.type} authorizers are not "
                           "modelled; its routes answer 403")
        for stage in self.apis.stages.values():
            if not stage.deployed:
                out.append(f"stage {stage.name}: no autoDeploy and no deployment, so it serves "
                           "nothing (404), as on AWS")
        for route in self.apis.routes.values():
            if route.authorization_type not in ("NONE", "JWT"):
                out.append(f"route {route.key}: authorization {route.authorization_type} is not "
                           "modelled; it answers 403")
        for integration in self.apis.integrations.values():
            if integration.type != "AWS_PROXY":
                out.append(f"integration {integration.id}: type {integration.type} is not "
                           "modelled; its routes answer 500")
        return out

    @property
    def api_url(self) -> str:
        return self.outputs[stack_outputs.API_URL]

    @property
    def cognito_endpoint(self) -> str:
        return self.cognito.endpoint

    def write_outputs(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(outputs_json(self.outputs), encoding="utf-8")

