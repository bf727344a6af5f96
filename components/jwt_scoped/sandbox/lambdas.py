"""Local Lambda: functions run from their deployment archives, each in warm worker processes.

``create_function`` unpacks a function's ``code`` archive (under Pulumi's mocks the input is the
``pulumi.AssetArchive`` itself: names in the archive -> ``FileAsset``/``StringAsset``/nested
archives) into its own folder, as Lambda unpacks it into ``/var/task``. ``start`` runs the
handler of every function in its own process (``sandbox/worker.py``: only that folder on
``sys.path``, the function's environment and Lambda's reserved variables, no AWS credentials)
and waits for its cold start, so the first request finds it warm. A file missing from the
archive fails the import as it would on Lambda.

``invoke`` runs one invocation with the function's ``timeout``: a worker that does not answer
in time is killed and replaced ("Task timed out after N seconds"), one that dies is replaced
("Runtime exited ..."), and an idle one found dead is replaced before it is handed a call.
Concurrent invocations of one function run in up to ``max_concurrency`` workers, like Lambda's
execution environments; a caller with a deadline (API Gateway's integration timeout, Cognito's
five seconds for a trigger) counts the time it waits for a worker, and gets ``CallerTimeout``
when the deadline passes first. An event or an answer larger than Lambda takes for a
synchronous invocation fails as Lambda fails it.

``add_permission`` records resource-policy statements (``aws.lambda.Permission``);
``invoke_as`` invokes on behalf of a service principal only when one allows it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from .arns import FunctionRef, arn_like, function_ref, names_function
from .worker import (
    FRAME_HEADER_BYTES,
    frame_header,
    frame_length,
    receive,
    receive_frame,
    send_frame,
)

WORKER = Path(__file__).resolve().parent / "worker.py"
# Lambda's synchronous invocation payload quota ("Lambda quotas": 6 MB each way), in bytes as
# Lambda counts them (Zac Charles, "Deep Dive: Lambda's Request Payload Size Limit": requests
# must be smaller than 6,291,456 bytes, responses at most 6,291,556).
MAX_EVENT_BYTES = 6 * 1024 * 1024
MAX_RESULT_BYTES = 6 * 1024 * 1024 + 100
REQUEST_TOO_LARGE = "RequestEntityTooLargeException"
RESPONSE_TOO_LARGE = "Function.ResponseSizeTooLarge"
STARTUP_TIMEOUT = 10.0  # Lambda's init phase limit (10 s), "Lambda execution environment"
DEFAULT_TIMEOUT = 3  # Lambda's default function timeout, seconds
DEFAULT_MEMORY = 128


class LambdaError(Exception):
    """An invocation that failed; ``error`` is Lambda's error object."""

    def __init__(self, error: dict):
        self.error = error
        super().__init__(error.get("errorMessage", "unknown error"))


class CallerTimeout(Exception):
    """The caller's deadline passed before the function answered (queued or running)."""


class FunctionNotFound(Exception):
    """ResourceNotFoundException: no such function."""


class AccessDenied(Exception):
    """AccessDeniedException: no resource policy lets the caller invoke the function."""


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    arn: str
    handler: str
    timeout: float
    memory: int
    runtime: str
    environment: dict[str, str]
    task_root: Path
    log_group: str


@dataclass(frozen=True)
class Permission:
    """One statement of a function's resource policy (``aws.lambda.Permission`` inputs)."""

    function: str
    principal: str
    action: str = "lambda:InvokeFunction"
    source_arn: str | None = None
    source_account: str | None = None
    qualifier: str | None = None

    def allows(self, spec: FunctionSpec, account: str, region: str, principal: str,
               source_arn: str | None, source_account: str | None) -> bool:
        ref = function_ref(self.function)
        if self.qualifier is not None and self.qualifier != "$LATEST":
            return False
        return (ref is not None and names_function(ref, spec.name, account, region)
                and self.principal == principal
                and self.action in ("lambda:InvokeFunction", "lambda:*")
                and (self.source_arn is None
                     or (source_arn is not None and arn_like(source_arn, self.source_arn)))
                and (self.source_account is None or self.source_account == source_account))


def unpack(archive: Any, target: Path) -> None:
    """Write a Pulumi archive's files under ``target``."""
    if isinstance(archive, pulumi.AssetArchive):
        for name, item in archive.assets.items():
            destination = target / name
            if isinstance(item, pulumi.FileAsset):
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(item.path, destination)
            elif isinstance(item, pulumi.StringAsset):
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_text(item.text)
            elif isinstance(item, pulumi.Archive):
                unpack(item, destination)
            else:
                raise ValueError(f"archive entry {name!r}: {type(item).__name__} is not supported "
                                 "by the sandbox (file, string and archive entries are)")
    elif isinstance(archive, pulumi.FileArchive):
        source = Path(archive.path)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            with zipfile.ZipFile(source) as zipped:
                zipped.extractall(target)
    else:
        raise ValueError(f"function code {type(archive).__name__} is not supported by the sandbox "
                         "(an AssetArchive or FileArchive is)")
    target.mkdir(parents=True, exist_ok=True)


class _Worker:
    """One execution environment: a process and the socket to talk to it."""

    def __init__(self, spec: FunctionSpec, env: dict[str, str], log: Path):
        ours, theirs = socket.socketpair()
        self.sock = ours
        with open(log, "ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 -- our own interpreter and worker script
                [sys.executable, "-I", "-S", "-B", str(WORKER), str(theirs.fileno()), str(spec.task_root),
                 spec.handler],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, env=env, cwd=spec.task_root)
        theirs.close()

    def wait_ready(self, timeout: float) -> None:
        self.sock.settimeout(timeout)
        try:
            hello = receive(self.sock)
        except TimeoutError:
            hello = None
        if not hello or not hello.get("ready"):
            self.kill()
            raise LambdaError({"errorType": "Runtime.ExitError",
                               "errorMessage": "the execution environment did not start"})

    def call(self, frame: bytes, timeout: float) -> bytes | None:
        """The worker's answer (a JSON frame), or ``None`` if it died; ``TimeoutError`` if it
        took too long."""
        self.sock.settimeout(timeout)
        send_frame(self.sock, frame)
        return receive_frame(self.sock)

    async def call_async(self, frame: bytes) -> bytes | None:
        """``call`` without a thread: the event loop waits for the answer (the caller bounds
        the wait)."""
        loop = asyncio.get_running_loop()
        self.sock.setblocking(False)
        await loop.sock_sendall(self.sock, frame_header(frame) + frame)
        header = await self._exactly(loop, FRAME_HEADER_BYTES)
        if header is None:
            return None
        return await self._exactly(loop, frame_length(header))

    async def _exactly(self, loop, size: int) -> bytes | None:
        chunks, left = [], size
        while left:
            chunk = await loop.sock_recv(self.sock, min(left, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def exit_status(self) -> int | None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            return self.process.wait(timeout=1)
        return None

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def close(self) -> None:
        """Ask the worker to stop (it exits when its socket closes)."""
        with contextlib.suppress(OSError):
            self.sock.close()


def _wake(loop: asyncio.AbstractEventLoop, future: asyncio.Future) -> None:
    def done() -> None:
        if not future.done():
            future.set_result(None)
    if asyncio._get_running_loop() is loop:  # released on the loop's own thread: no self-pipe
        done()
    else:
        loop.call_soon_threadsafe(done)


class _Pool:
    """Warm workers of one function, up to ``size`` at once. A caller waits for a free one in
    its own way: a thread (Cognito's trigger, from moto's threads) on the condition, a
    coroutine (the gateway) on a future, so no thread stands between a request and its
    function."""

    def __init__(self, spec: FunctionSpec, env: dict[str, str], log: Path, size: int):
        self.spec, self.env, self.log, self.size = spec, env, log, size
        self.idle: list[_Worker] = []
        self.count = 0
        self.all: set[_Worker] = set()
        self.closed = False
        self.cond = threading.Condition()
        self.waiters: collections.deque[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = (
            collections.deque())

    def spawn(self) -> _Worker:
        worker = _Worker(self.spec, self.env, self.log)
        with self.cond:
            self.all.add(worker)
        return worker

    def _check_open(self) -> None:
        if self.closed:
            raise LambdaError({"errorType": "ServiceException",
                               "errorMessage": "the sandbox is stopping"})

    def _take(self) -> _Worker | str | None:
        """Under the lock: an idle worker (alive: one killed while idle is replaced), ``"start"``
        when another may start, else ``None``."""
        self._check_open()
        while self.idle:
            worker = self.idle.pop()
            if worker.process.poll() is None:
                self.count += 1
                return worker
            self.all.discard(worker)
            worker.kill()
        if self.count < self.size:
            self.count += 1
            return "start"
        return None

    def _start(self) -> _Worker:
        try:
            worker = self.spawn()
            worker.wait_ready(STARTUP_TIMEOUT)
        except BaseException:
            self.discard(None)
            raise
        return worker

    def acquire(self, deadline: float | None = None) -> _Worker:
        """A warm worker, or a new one while fewer than ``size`` run; ``CallerTimeout`` when
        ``deadline`` (``time.monotonic()``) passes while every worker is busy."""
        with self.cond:
            while (taken := self._take()) is None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise CallerTimeout()
                self.cond.wait(left)
        return self._start() if taken == "start" else taken

    async def acquire_async(self, deadline: float | None = None) -> _Worker:
        """``acquire`` for a coroutine: it waits on a future, not in a thread (only starting a
        worker, a process and its cold start, runs in one)."""
        loop = asyncio.get_running_loop()
        while True:
            with self.cond:
                taken = self._take()
                if taken is None:
                    future = loop.create_future()
                    self.waiters.append((loop, future))
            if taken == "start":
                return await loop.run_in_executor(None, self._start)
            if taken is not None:
                return taken
            left = None if deadline is None else deadline - time.monotonic()
            try:
                if left is not None and left <= 0:
                    raise TimeoutError
                async with asyncio.timeout(left):
                    await future
            except TimeoutError:
                with self.cond, contextlib.suppress(ValueError):
                    self.waiters.remove((loop, future))
                raise CallerTimeout() from None

    def _wake_one(self) -> None:
        """Under the lock: a worker came free (or may start): wake a thread and a coroutine;
        whichever takes it first, the other waits again."""
        self.cond.notify()
        while self.waiters:
            loop, future = self.waiters.popleft()
            if not future.done():
                _wake(loop, future)
                break

    def release(self, worker: _Worker) -> None:
        with self.cond:
            self.count -= 1
            if self.closed:
                worker.close()
            else:
                self.idle.append(worker)
            self._wake_one()

    def discard(self, worker: _Worker | None) -> None:
        if worker is not None:
            worker.kill()
        with self.cond:
            self.count -= 1
            if worker is not None:
                self.all.discard(worker)
            self._wake_one()

    def close(self) -> list[_Worker]:
        with self.cond:
            self.closed = True
            self.cond.notify_all()
            while self.waiters:
                _wake(*self.waiters.popleft())
            for worker in self.all:
                worker.close()
            return list(self.all)


@dataclass
class LocalLambda:
    """The functions and resource policies of one sandbox."""

    region: str
    account: str
    root: Path
    """Where archives are unpacked, one folder per function."""
    logs: Path
    """Where each function's output goes: ``<function name>.log``."""
    max_concurrency: int = 4
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    permissions: list[Permission] = field(default_factory=list)
    _pools: dict[str, _Pool] = field(default_factory=dict)

    def create_function(self, resource_name: str, inputs: dict) -> FunctionSpec:
        name = inputs.get("name") or f"{resource_name}-{secrets.token_hex(4)[:7]}"
        if name in self.functions:
            raise ValueError(f"function {name!r} already exists")
        task_root = self.root / name
        unpack(inputs.get("code"), task_root)
        logging_config = inputs.get("loggingConfig") or {}
        spec = FunctionSpec(
            name=name, arn=f"arn:aws:lambda:{self.region}:{self.account}:function:{name}",
            handler=inputs.get("handler") or "", timeout=float(inputs.get("timeout") or
                                                              DEFAULT_TIMEOUT),
            memory=int(inputs.get("memorySize") or DEFAULT_MEMORY),
            runtime=inputs.get("runtime") or "python3",
            environment={k: str(v) for k, v in
                         ((inputs.get("environment") or {}).get("variables") or {}).items()},
            task_root=task_root,
            log_group=logging_config.get("logGroup") or f"/aws/lambda/{name}")
        self.functions[name] = spec
        return spec

    def add_permission(self, inputs: dict) -> Permission:
        permission = Permission(function=str(inputs.get("function", "")),
                                principal=str(inputs.get("principal", "")),
                                action=str(inputs.get("action", "lambda:InvokeFunction")),
                                source_arn=inputs.get("sourceArn"),
                                source_account=inputs.get("sourceAccount"),
                                qualifier=inputs.get("qualifier"))
        self.permissions.append(permission)
        return permission

    def find(self, ref: FunctionRef | None) -> FunctionSpec | None:
        if ref is None:
            return None
        spec = self.functions.get(ref.name)
        if spec is None or not names_function(ref, spec.name, self.account, self.region):
            return None
        return spec

    def allows(self, spec: FunctionSpec, principal: str, source_arn: str | None,
               source_account: str | None = None) -> bool:
        return any(p.allows(spec, self.account, self.region, principal, source_arn,
                            source_account) for p in self.permissions)

    def environment(self, spec: FunctionSpec) -> dict[str, str]:
        """What the function's process sees: its variables and Lambda's reserved ones
        ("Defined runtime environment variables"), and no AWS credentials."""
        return {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "en_US.UTF-8", "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": str(spec.task_root), "_HANDLER": spec.handler,
            "AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": f"sandbox/[$LATEST]{uuid.uuid4().hex}",
            **spec.environment,
        }

    def start(self) -> None:
        """One warm worker per function, started in parallel."""
        self.logs.mkdir(parents=True, exist_ok=True)
        for spec in self.functions.values():
            self._pools[spec.name] = _Pool(spec, self.environment(spec),
                                           self.logs / f"{spec.name}.log", self.max_concurrency)
        started = [(pool, pool.spawn()) for pool in self._pools.values()]
        for pool, worker in started:
            worker.wait_ready(STARTUP_TIMEOUT)
            with pool.cond:
                pool.idle.append(worker)

    def _payload(self, event: Any) -> str:
        payload = json.dumps(event)
        if len(payload.encode()) >= MAX_EVENT_BYTES:
            raise LambdaError({"errorType": REQUEST_TOO_LARGE,
                               "errorMessage": f"Request must be smaller than {MAX_EVENT_BYTES} "
                                               "bytes for the InvokeFunction operation"})
        return payload

    @staticmethod
    def _frame(spec: FunctionSpec, payload: str, request_id: str, limit: float) -> bytes:
        return (f'{{"requestId": "{request_id}", "deadlineMs": '
                f'{int(time.time() * 1000 + limit * 1000)}, "functionArn": {json.dumps(spec.arn)}, '
                f'"event": {payload}}}').encode()

    @staticmethod
    def _limit(spec: FunctionSpec, timeout: float | None, started: float) -> float:
        """What is left of the caller's deadline, within the function's own timeout."""
        left = None if timeout is None else timeout - (time.monotonic() - started)
        return spec.timeout if left is None else max(0.001, min(left, spec.timeout))

    @staticmethod
    def _timed_out(pool: _Pool, worker: _Worker, spec: FunctionSpec, limit: float,
                   request_id: str) -> Exception:
        pool.discard(worker)
        if limit < spec.timeout:
            return CallerTimeout()
        return LambdaError({"errorType": "Sandbox.Timedout",
                            "errorMessage": f"RequestId: {request_id} Error: Task timed out "
                                            f"after {limit:.2f} seconds"})

    @staticmethod
    def _result(pool: _Pool, worker: _Worker, answer: bytes | None, request_id: str) -> Any:
        if answer is None:
            status = worker.exit_status()
            pool.discard(worker)
            raise LambdaError({"errorType": "Runtime.ExitError",
                               "errorMessage": f"RequestId: {request_id} Error: Runtime exited "
                                               f"with error: exit status {status}"})
        pool.release(worker)
        if len(answer) > MAX_RESULT_BYTES + len(b'{"result": }'):
            raise LambdaError({"errorType": RESPONSE_TOO_LARGE,
                               "errorMessage": "Response payload size exceeded maximum allowed "
                                               f"payload size ({MAX_RESULT_BYTES} bytes)."})
        decoded = json.loads(answer)
        if "error" in decoded:
            raise LambdaError(decoded["error"])
        return decoded.get("result")

    def invoke(self, spec: FunctionSpec, event: Any, timeout: float | None = None) -> Any:
        """The function's result; ``LambdaError`` if it failed or timed out, ``CallerTimeout``
        if ``timeout`` (the caller's, counting the wait for a worker) passed first."""
        started = time.monotonic()
        payload = self._payload(event)
        pool = self._pools[spec.name]
        request_id = str(uuid.uuid4())
        worker = pool.acquire(None if timeout is None else started + timeout)
        limit = self._limit(spec, timeout, started)
        try:
            answer = worker.call(self._frame(spec, payload, request_id, limit), limit)
        except TimeoutError:
            raise self._timed_out(pool, worker, spec, limit, request_id) from None
        except OSError as error:
            pool.discard(worker)
            raise LambdaError({"errorType": "Runtime.ExitError",
                               "errorMessage": f"RequestId: {request_id} Error: {error}"}) from None
        return self._result(pool, worker, answer, request_id)

    async def invoke_async(self, spec: FunctionSpec, event: Any,
                           timeout: float | None = None) -> Any:
        """``invoke`` for a caller on an event loop (the gateway): the wait for a free worker
        and the call itself stay on the loop's thread (only a cold start runs in a thread)."""
        started = time.monotonic()
        payload = self._payload(event)
        pool = self._pools[spec.name]
        request_id = str(uuid.uuid4())
        worker = await pool.acquire_async(None if timeout is None else started + timeout)
        limit = self._limit(spec, timeout, started)
        try:
            async with asyncio.timeout(limit):
                answer = await worker.call_async(self._frame(spec, payload, request_id, limit))
        except TimeoutError:
            raise self._timed_out(pool, worker, spec, limit, request_id) from None
        except OSError as error:
            pool.discard(worker)
            raise LambdaError({"errorType": "Runtime.ExitError",
                               "errorMessage": f"RequestId: {request_id} Error: {error}"}) from None
        return self._result(pool, worker, answer, request_id)

    def invoke_as(self, principal: str, ref: FunctionRef | None, event: Any, *,
                  source_arn: str | None, source_account: str | None = None,
                  timeout: float | None = None) -> Any:
        """Invoke on behalf of an AWS service, as its resource policy allows."""
        spec = self.find(ref)
        if spec is None:
            raise FunctionNotFound(ref)
        if not self.allows(spec, principal, source_arn, source_account):
            raise AccessDenied(f"{principal} may not invoke {spec.name} from {source_arn}")
        return self.invoke(spec, event, timeout)

    def stop(self) -> None:
        """Stop every worker: they exit when their socket closes; stragglers are killed."""
        workers = [w for pool in self._pools.values() for w in pool.close()]
        deadline = time.monotonic() + 2.0
        for worker in workers:
            try:
                worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.kill()
        self._pools.clear()
