"""The sandbox's HTTP edge: uvicorn serving its ASGI apps (one local API Gateway per HTTP API,
one Cognito domain per user pool domain) from one event loop in a background thread.

uvicorn with h11 (pure Python, strict about HTTP/1.1) does the protocol: chunked bodies, a
``Content-Length`` that is not a number or disagrees with another, malformed request lines and a
missing ``Host`` get a plain 400 with a status line; a reset connection is logged, not printed
as a traceback; the listen backlog is 2,048. Two things it leaves open are added here:

- a deadline for a request's headers (``HEADER_DEADLINE_SECONDS``), from the connection or the
  previous response on: uvicorn times idle keep-alive connections out, but a client that sends
  one byte every few seconds would hold its connection forever;
- each socket is bound before anything else starts, so a port in use is known first, and a
  sandbox started with ``--port 0`` knows its port before the program runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

HOST = "127.0.0.1"
HEADER_DEADLINE_SECONDS = 10.0
KEEP_ALIVE_SECONDS = 60
# h11 buffers at most this much of an incomplete request head; API Gateway's own limit on the
# request line and headers (10,240 bytes) is judged by the app, so this is set well above it.
MAX_HEAD_BYTES = 64 * 1024
BACKLOG = 2048
WAITING_THREADS = 64


class PortInUse(OSError):
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        super().__init__(f"port {port} on {host} is in use; stop what holds it or pick another "
                         "with --port")


class DeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's headers."""

    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(HEADER_DEADLINE_SECONDS, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.cycle is None or self.cycle.response_complete:  # still waiting for headers
            self.transport.close()

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:
            self._disarm()  # a request arrived whole: the app has it now

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)


def bind(port: int, host: str = HOST) -> socket.socket:
    """A socket bound to ``host:port`` (0: any free port), not yet listening."""
    # IPPROTO_TCP named, not 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets
    # whose protocol is TCP, and with it on, each keep-alive answer waits for the client's
    # delayed ACK (about 40 ms).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT of a clean stop
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(host, port) from None
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


class Edge:
    """One event loop in a thread, serving ASGI apps on bound sockets."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[tuple[uvicorn.Server, Future]] = []
        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)  # resets are not news

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            # For what must wait in a thread: a free worker of a busy function, a cold start.
            self._loop.set_default_executor(ThreadPoolExecutor(WAITING_THREADS,
                                                               thread_name_prefix="edge-wait"))
            self._thread = threading.Thread(target=self._loop.run_forever, name="sandbox-edge",
                                            daemon=True)
            self._thread.start()
        return self._loop

    def call(self, function: Callable[[], Any]) -> Any:
        """Run ``function`` in the loop's thread and wait for it."""
        async def run():
            return function()
        return asyncio.run_coroutine_threadsafe(run(), self.loop).result()

    def serve(self, app: Any, sock: socket.socket) -> None:
        """Serve ``app`` on ``sock`` (bound with ``bind``); returns once it accepts."""
        config = uvicorn.Config(
            app, http=DeadlineProtocol, lifespan="off", access_log=False, log_level="critical",
            timeout_keep_alive=KEEP_ALIVE_SECONDS, h11_max_incomplete_event_size=MAX_HEAD_BYTES,
            backlog=BACKLOG, server_header=False, date_header=True, timeout_graceful_shutdown=2,
            proxy_headers=False)  # the gateway is the edge: no proxy in front of it
        server = uvicorn.Server(config)
        started = threading.Event()

        async def run() -> None:
            task = asyncio.ensure_future(server.serve(sockets=[sock]))
            while not server.started and not task.done():
                await asyncio.sleep(0.005)
            started.set()
            await task

        future = asyncio.run_coroutine_threadsafe(run(), self.loop)
        self._servers.append((server, future))
        while not started.wait(0.05):
            if future.done():
                future.result()  # raises what stopped it
                raise RuntimeError("the server stopped before it started")

    def stop(self) -> None:
        """Stop every server (closing open connections and releasing the ports), then the loop."""
        for server, _ in self._servers:
            server.should_exit = True
            server.force_exit = True
        for _, future in self._servers:
            with contextlib.suppress(Exception):
                future.result(timeout=5)
        self._servers.clear()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._loop.run_until_complete(self._loop.shutdown_default_executor()) \
                if not self._loop.is_running() else None
            self._loop.close()
            self._loop = None
            self._thread = None
