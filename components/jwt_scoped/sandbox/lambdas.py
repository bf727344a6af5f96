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
("Runtime exited ..."), and an idle one found dead (killed while idle) is replaced before it
is handed a call, or, when it dies before it began the call (its ``START`` line is not in the
log), the call goes to another. Concurrent invocations of one function run in up to
``max_concurrency`` workers, like Lambda's execution environments; a caller with a deadline
(API Gateway's integration timeout, Cognito's five seconds for a trigger) counts the time it
waits for a worker, a cold start included, and gets ``CallerTimeout`` when the deadline passes
first. For the gateway's calls (``invoke_async``) the invocation then runs on, as Lambda's
does when API Gateway stops waiting: its worker stays busy until it answers (or its own
timeout kills it), and a worker that was starting joins the pool. An event or an answer larger
than Lambda takes for a synchronous invocation fails as Lambda fails it.

``add_permission`` records resource-policy statements (``aws.lambda.Permission``);
``invoke_as`` invokes on behalf of a service principal only when one allows it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
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
# json.dumps's own settings, less the check for circular references (an event is a tree).
_EVENT_JSON = json.JSONEncoder(check_circular=False)
READ_BYTES = 64 * 1024
"""What one read of a worker's answer asks for (a read allocates what it asks for: a megabyte
would cost more than the whole call)."""


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
    """One execution environment: a process and the socket to talk to it.

    A caller on a thread (``call``) uses the socket blocking, with a timeout. For callers on an
    event loop (``begin``) the loop reads the socket (from the first such call until a thread
    calls): each answer goes to the ``answer`` future of the call awaiting it, so a caller may
    stop waiting (its deadline passed) while the invocation runs on, and a worker that dies
    while idle is known at once (``dead``)."""

    def __init__(self, spec: FunctionSpec, env: dict[str, str], log: Path):
        ours, theirs = socket.socketpair()
        self.sock = ours
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 -- our own interpreter and worker script
                [sys.executable, "-I", "-S", "-B", str(WORKER), str(theirs.fileno()), str(spec.task_root),
                 spec.handler],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, env=env, cwd=spec.task_root)
        theirs.close()
        self.dead = False
        self._loop: asyncio.AbstractEventLoop | None = None
        """The loop reading the socket, if one does."""
        self._buffer = bytearray()
        self.answer: asyncio.Future | None = None
        self.abandoned: Callable[[bytes | None], None] | None = None
        """What takes the answer of an invocation whose caller stopped waiting."""

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

    def alive(self) -> bool:
        """Not known dead: a worker whose socket a loop reads is dead once the loop read its end
        (and one that died a moment ago fails the send, or never begins the call: either way
        the call goes to another), else its process is asked."""
        return not self.dead and (self._loop is not None or self.process.poll() is None)

    def call(self, frame: bytes, timeout: float) -> bytes | None:
        """The worker's answer (a JSON frame), or ``None`` if it died; ``TimeoutError`` if it
        took too long; ``OSError`` if the frame could not be sent."""
        self._leave_loop()
        self.sock.settimeout(timeout)
        send_frame(self.sock, frame)
        return receive_frame(self.sock)

    def begin(self, loop: asyncio.AbstractEventLoop,
              frame: bytes) -> tuple[asyncio.Future, memoryview | None]:
        """Send ``frame``: the future the answer comes in (the frame's bytes, ``None`` if the
        worker died), read by ``loop``, and what is left to send (more than the socket holds:
        ``loop.sock_sendall`` it). ``OSError`` if the frame could not be sent."""
        sock = self.sock
        if self._loop is not loop:
            self._leave_loop()
            sock.setblocking(False)
            loop.add_reader(sock.fileno(), self._readable)
            self._loop = loop
        header = frame_header(frame)
        try:
            sent = sock.sendmsg((header, frame))
        except (BlockingIOError, InterruptedError):
            sent = 0
        self.answer = answer = loop.create_future()
        rest = None if sent == len(header) + len(frame) else memoryview(header + frame)[sent:]
        return answer, rest

    def _readable(self) -> None:
        try:
            chunk = self.sock.recv(READ_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:  # the process is gone
            self.dead = True
            self._leave_loop()
            self._answered(None)
            return
        buffer = self._buffer
        if not buffer and len(chunk) >= FRAME_HEADER_BYTES \
                and len(chunk) == FRAME_HEADER_BYTES + frame_length(chunk[:FRAME_HEADER_BYTES]):
            self._answered(chunk[FRAME_HEADER_BYTES:])  # the usual: the whole answer at once
            return
        buffer += chunk
        if len(buffer) >= FRAME_HEADER_BYTES:
            end = FRAME_HEADER_BYTES + frame_length(bytes(buffer[:FRAME_HEADER_BYTES]))
            if len(buffer) >= end:
                answer = bytes(buffer[FRAME_HEADER_BYTES:end])
                buffer.clear()
                self._answered(answer)

    def _answered(self, answer: bytes | None) -> None:
        future, self.answer = self.answer, None
        if future is not None and not future.done():
            future.set_result(answer)
        elif self.abandoned is not None:
            take, self.abandoned = self.abandoned, None
            take(answer)

    def _leave_loop(self, then: Callable[[], None] | None = None) -> None:
        """Stop the loop reading the socket, then run ``then``: at once on the loop's thread (or
        once the loop is closed), else on the loop's thread, soon (``then`` is None: wait for
        it; the caller is not the loop, which may need the pool's lock meanwhile)."""
        loop, self._loop = self._loop, None
        self._buffer.clear()
        if loop is None or loop.is_closed() or asyncio._get_running_loop() is loop:
            if loop is not None and not loop.is_closed():
                loop.remove_reader(self.sock.fileno())
            if then is not None:
                then()
            return
        left = threading.Event()

        def leave() -> None:
            loop.remove_reader(self.sock.fileno())
            left.set()
            if then is not None:
                then()

        try:
            loop.call_soon_threadsafe(leave)
        except RuntimeError:  # closed meanwhile
            if then is not None:
                then()
            return
        if then is None:
            left.wait(1.0)

    def started(self, request_id: str) -> bool:
        """Whether this worker began the invocation ``request_id`` (its ``START`` line is in the
        log: the worker writes it before it calls the handler)."""
        try:
            return f"START RequestId: {request_id} ".encode() in self.log.read_bytes()
        except OSError:
            return True  # cannot tell: say it did, so nothing runs twice

    def exit_status(self) -> int | None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            return self.process.wait(timeout=1)
        return None

    def _close_socket(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def kill(self) -> None:
        self._leave_loop(then=self._close_socket)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def close(self) -> None:
        """Ask the worker to stop (it exits when its socket closes)."""
        self._leave_loop(then=self._close_socket)


_TIME_UP = "the deadline passed"


def _time_up(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(_TIME_UP)


def _wake(loop: asyncio.AbstractEventLoop, future: asyncio.Future, thread: int) -> None:
    """Wake the coroutine waiting on ``future`` in ``loop`` (run by the thread ``thread``)."""
    def done() -> None:
        if not future.done():
            future.set_result(None)
    if threading.get_ident() == thread:  # released on the loop's own thread: no self-pipe
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
        self.waiters: collections.deque[tuple[asyncio.AbstractEventLoop, asyncio.Future, int]] = (
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
            if worker.alive():
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

    async def acquire_async(self, loop: asyncio.AbstractEventLoop,
                            deadline: float | None = None) -> _Worker:
        """``acquire`` for a coroutine on ``loop`` (``deadline`` on its clock): it waits on a
        future, not in a thread; only starting a worker, a process and its cold start, runs in
        one, and the deadline bounds that wait too (the worker joins the pool when ready)."""
        while True:
            with self.cond:
                taken = self._take()
                if taken is None:
                    future = loop.create_future()
                    waiter = (loop, future, threading.get_ident())
                    self.waiters.append(waiter)
            if taken == "start":
                return await self._started(loop, deadline)
            if taken is not None:
                return taken
            timer = None if deadline is None else loop.call_at(deadline, _time_up, future)
            if await future is _TIME_UP:
                with self.cond, contextlib.suppress(ValueError):
                    self.waiters.remove(waiter)
                raise CallerTimeout()
            if timer is not None:
                timer.cancel()

    async def _started(self, loop: asyncio.AbstractEventLoop, deadline: float | None) -> _Worker:
        starting = loop.run_in_executor(None, self._start)
        if deadline is None:
            return await starting
        done, _ = await asyncio.wait((starting,), timeout=max(0.0, deadline - loop.time()))
        if done:
            return starting.result()
        starting.add_done_callback(self._started_late)
        raise CallerTimeout()

    def _started_late(self, starting: asyncio.Future) -> None:
        """A worker whose caller stopped waiting while it started: the pool's now."""
        if not starting.cancelled() and starting.exception() is None:
            self.release(starting.result())

    def _wake_one(self) -> None:
        """Under the lock: a worker came free (or may start): wake a thread and a coroutine;
        whichever takes it first, the other waits again."""
        self.cond.notify()
        while self.waiters:
            loop, future, thread = self.waiters.popleft()
            if not future.done():
                _wake(loop, future, thread)
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


# What an invocation's answer future holds when its time ran out (no worker answers with these).
_TIMED_OUT = "the function's own timeout"
_CALLER_GONE = "the caller's deadline"
SEND_ATTEMPTS = 3
"""Workers tried for one invocation when the one handed the call turns out dead before it
began it (killed while idle): the call goes to the next, as Lambda gives it a new one."""
_ids = random.Random()  # noqa: S311 -- request ids, not secrets (seeded from os.urandom)


def new_request_id() -> str:
    """A version 4 UUID, as Lambda's request ids are (without a system call per request)."""
    bits = (_ids.getrandbits(128) & ~(0xF000 << 64 | 0xC000 << 48)) | 0x4000 << 64 | 0x8000 << 48
    text = f"{bits:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


@functools.lru_cache(maxsize=256)
def _quoted(text: str) -> bytes:
    return json.dumps(text).encode()


def _task_timed_out(request_id: str, seconds: float) -> LambdaError:
    return LambdaError({"errorType": "Sandbox.Timedout",
                        "errorMessage": f"RequestId: {request_id} Error: Task timed out after "
                                        f"{seconds:.2f} seconds"})


def _expire(pool: _Pool, worker: _Worker, answered: asyncio.Future, own_timeout: bool,
            ends: float) -> None:
    """An invocation's time ran out before its answer came: the function's own timeout (the
    caller discards the worker), or the caller's deadline (the worker finishes on its own)."""
    if answered.done():
        return
    if own_timeout:
        answered.set_result(_TIMED_OUT)
        return
    answered.set_result(_CALLER_GONE)
    _abandon(pool, worker, ends)


def _abandon(pool: _Pool, worker: _Worker, ends: float) -> None:
    """The invocation runs on without its caller: its answer frees the worker, or its own
    timeout kills it (and the pool starts another when one is needed)."""
    loop = asyncio.get_running_loop()

    def overrun() -> None:
        if worker.abandoned is not None:
            worker.abandoned = None
            pool.discard(worker)

    timer = loop.call_at(ends, overrun)

    def answered(answer: bytes | None) -> None:
        timer.cancel()
        if answer is None:
            pool.discard(worker)
        else:
            pool.release(worker)

    worker.abandoned = answered


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

    def worker_pids(self, function_name: str) -> list[int]:
        """The process ids of the function's running workers (idle or busy)."""
        pool = self._pools[function_name]
        with pool.cond:
            return sorted(w.process.pid for w in pool.all if w.alive())

    @staticmethod
    def encode(event: Any) -> bytes:
        """An event as JSON, as the worker is sent it."""
        return _EVENT_JSON.encode(event).encode()

    @staticmethod
    def _payload(event: Any, payload: bytes | None = None) -> bytes:
        """The event's JSON (``payload``, when the caller encoded it), within Lambda's quota."""
        if payload is None:
            payload = _EVENT_JSON.encode(event).encode()
        if len(payload) >= MAX_EVENT_BYTES:
            raise LambdaError({"errorType": REQUEST_TOO_LARGE,
                               "errorMessage": f"Request must be smaller than {MAX_EVENT_BYTES} "
                                               "bytes for the InvokeFunction operation"})
        return payload

    @staticmethod
    def _frame(spec: FunctionSpec, payload: bytes, request_id: str) -> bytes:
        """What the worker is sent; its context's deadline is the function's own timeout from
        now (Lambda's: a caller that stops waiting earlier does not shorten it)."""
        deadline_ms = int((time.time() + spec.timeout) * 1000)
        return b"".join((b'{"requestId": "', request_id.encode(), b'", "deadlineMs": ',
                         str(deadline_ms).encode(), b', "functionArn": ', _quoted(spec.arn),
                         b', "event": ', payload, b"}"))

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
        return _task_timed_out(request_id, limit)

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
        decoded = json.loads(answer.decode())  # a str: json.loads need not detect the encoding
        if "error" in decoded:
            raise LambdaError(decoded["error"])
        return decoded.get("result")

    @staticmethod
    def _exited(request_id: str, error: OSError) -> LambdaError:
        return LambdaError({"errorType": "Runtime.ExitError",
                            "errorMessage": f"RequestId: {request_id} Error: {error}"})

    def invoke(self, spec: FunctionSpec, event: Any, timeout: float | None = None) -> Any:
        """The function's result; ``LambdaError`` if it failed or timed out, ``CallerTimeout``
        if ``timeout`` (the caller's, counting the wait for a worker) passed first."""
        started = time.monotonic()
        payload = self._payload(event)
        pool = self._pools[spec.name]
        request_id = new_request_id()
        frame = self._frame(spec, payload, request_id)
        for attempt in range(1, SEND_ATTEMPTS + 1):
            worker = pool.acquire(None if timeout is None else started + timeout)
            limit = self._limit(spec, timeout, started)
            failure: OSError | None = None
            try:
                answer = worker.call(frame, limit)
            except TimeoutError:
                raise self._timed_out(pool, worker, spec, limit, request_id) from None
            except OSError as error:
                answer, failure = None, error
            if answer is None and attempt < SEND_ATTEMPTS and not worker.started(request_id):
                pool.discard(worker)  # dead before it began the call: the next one takes it
                continue
            if failure is not None:
                pool.discard(worker)
                raise self._exited(request_id, failure)
            return self._result(pool, worker, answer, request_id)
        raise AssertionError("unreachable")

    async def invoke_async(self, spec: FunctionSpec, event: Any, timeout: float | None = None,
                           payload: bytes | None = None) -> Any:
        """``invoke`` for a caller on an event loop (the gateway): the wait for a free worker
        and for the answer stay on the loop's thread (only a cold start runs in a thread).
        When ``timeout`` passes first the caller gets ``CallerTimeout`` then, and the
        invocation runs on, as on Lambda, until it ends or its own timeout kills it.
        ``payload``: the event as JSON (``encode``), when the caller has it."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        payload = self._payload(event, payload)
        pool = self._pools[spec.name]
        request_id = new_request_id()
        frame = self._frame(spec, payload, request_id)
        for attempt in range(1, SEND_ATTEMPTS + 1):
            worker = await pool.acquire_async(loop, deadline)
            ends = loop.time() + spec.timeout
            try:
                answered, rest = worker.begin(loop, frame)
                if rest is not None:
                    await loop.sock_sendall(worker.sock, rest)
            except OSError as error:  # it could not have begun the call
                worker.answer = None
                pool.discard(worker)
                if attempt < SEND_ATTEMPTS:
                    continue
                raise self._exited(request_id, error) from None
            own_timeout = deadline is None or ends <= deadline
            timer = loop.call_at(ends if own_timeout else deadline, _expire, pool, worker,
                                 answered, own_timeout, ends)
            try:
                answer = await answered
            except asyncio.CancelledError:  # the caller is going away: the worker is not
                timer.cancel()
                if answered.cancelled():
                    _abandon(pool, worker, ends)
                elif answered.result() is _TIMED_OUT or answered.result() is None:
                    pool.discard(worker)
                elif answered.result() is not _CALLER_GONE:
                    pool.release(worker)
                raise
            timer.cancel()
            if answer is _CALLER_GONE:
                raise CallerTimeout()
            if answer is _TIMED_OUT:
                pool.discard(worker)
                raise _task_timed_out(request_id, spec.timeout)
            if answer is None and attempt < SEND_ATTEMPTS and not worker.started(request_id):
                pool.discard(worker)  # dead before it began the call: the next one takes it
                continue
            return self._result(pool, worker, answer, request_id)
        raise AssertionError("unreachable")

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
