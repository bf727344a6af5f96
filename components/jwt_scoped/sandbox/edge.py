"""The sandbox's HTTP edge: uvicorn serving its ASGI apps (one local API Gateway per HTTP API,
one Cognito domain per user pool domain) from one event loop in a background thread.

uvicorn with h11 (pure Python, strict about HTTP/1.1) does the protocol: chunked bodies are read
as the body, and what follows one on a keep-alive connection is parsed as a request of its own;
a ``Content-Length`` that is not a number or disagrees with another, a malformed request line,
a ``Transfer-Encoding`` other than ``chunked`` and a missing or repeated ``Host`` are refused; a
reset connection is logged, not printed; the listen backlog is 2,048. Added here:

- what h11 refuses gets API Gateway's kind of answer, a JSON 400 ``{"message":"Bad Request"}``
  (431 for a request head longer than h11 holds) with ``Content-Length`` and
  ``connection: close``, not uvicorn's plain-text one;
- a connection closed after a response (a refusal, ``Connection: close``) lingers: its write
  side is shut, and what the client still sends (the rest of a refused body, a pipelined
  request) is read and dropped for up to ``LINGER_SECONDS``, so the client reads the answer
  instead of a reset;
- a deadline for a request's headers (``HEADER_DEADLINE_SECONDS``, read at each connection and
  response, so a test may change it), from the connection or the previous response on: a
  client that sends one byte every few seconds would otherwise hold its connection forever.
  It also ends an idle keep-alive connection, before uvicorn's keep-alive timeout would; one
  timer per server looks for overdue connections, not a timer per request;
- a response's head and body leave in one write (one ``send``, one packet for small answers);
- each socket is bound before anything else starts, so a port in use is known first, and a
  sandbox started with ``--port 0`` knows its port before the program runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol

HOST = "127.0.0.1"
HEADER_DEADLINE_SECONDS = 10.0
KEEP_ALIVE_SECONDS = 60  # uvicorn's; the header deadline ends an idle connection first
LINGER_SECONDS = 2.0
# h11 buffers at most this much of an incomplete request head; API Gateway's own limit on the
# request line and headers (10,240 bytes) is judged by the app, so this is set well above it.
MAX_HEAD_BYTES = 64 * 1024
BACKLOG = 2048
WAITING_THREADS = 64
HELD_BYTES = 256 * 1024
"""A response written in parts is held until it is whole or this large."""


class PortInUse(OSError):
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        super().__init__(f"port {port} on {host} is in use; stop what holds it or pick another "
                         "with --port")


class _Transport:
    """The connection's transport as uvicorn's request cycle sees it: the writes of a response
    under way are held and leave together once it is complete, and closing it lingers
    (``DeadlineProtocol.close_gently``)."""

    __slots__ = ("_protocol", "_transport", "_held", "_held_bytes")

    def __init__(self, protocol: DeadlineProtocol, transport: asyncio.Transport):
        self._protocol = protocol
        self._transport = transport
        self._held: list[bytes] = []
        self._held_bytes = 0

    def write(self, data: bytes) -> None:
        cycle = self._protocol.cycle
        if cycle is not None and cycle.response_started and not cycle.response_complete:
            if data:
                self._held.append(data)
                self._held_bytes += len(data)
                if self._held_bytes >= HELD_BYTES:
                    self.flush()
            return
        if self._held:
            self._held.append(data)
            data = b"".join(self._held)
            self._held.clear()
            self._held_bytes = 0
        if data:
            self._transport.write(data)

    def flush(self) -> None:
        if self._held:
            data = b"".join(self._held)
            self._held.clear()
            self._held_bytes = 0
            self._transport.write(data)

    def drop(self) -> None:
        self._held.clear()
        self._held_bytes = 0

    def close(self) -> None:
        self.flush()
        self._protocol.close_gently()

    def is_closing(self) -> bool:
        return self._protocol.lingering or self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _Deadlines:
    """The header deadlines of one server's connections, kept by one timer that looks every
    tenth of the deadline (at most every second) rather than a timer per request."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.protocols: set[DeadlineProtocol] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._at = 0.0

    def watch(self, protocol: DeadlineProtocol, due: float) -> None:
        self.protocols.add(protocol)
        if self._timer is None or due < self._at:  # the first, or a deadline made shorter
            self._schedule(due)

    def _schedule(self, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._at = at
        self._timer = self.loop.call_at(at, self._sweep)

    def _sweep(self) -> None:
        self._timer = None
        now = self.loop.time()
        for protocol in [p for p in self.protocols if p.head_due is not None and p.head_due <= now]:
            protocol.expired()
        if self.protocols:
            self._schedule(now + min(1.0, HEADER_DEADLINE_SECONDS / 10))


class DeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's headers, JSON refusals,
    lingering closes and whole writes."""

    head_due: float | None = None
    """When the request head being waited for is overdue (loop time); None while one is
    served."""
    _linger: asyncio.TimerHandle | None = None
    lingering = False
    _stopping = False

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._raw = transport
        self.transport = _Transport(self, transport)  # type: ignore[assignment]
        deadlines = getattr(self.server_state, "header_deadlines", None)
        if deadlines is None:  # the server's first connection
            deadlines = self.server_state.header_deadlines = _Deadlines(self.loop)
        self._deadlines = deadlines
        self._arm()

    def _arm(self) -> None:
        self.head_due = due = self.loop.time() + HEADER_DEADLINE_SECONDS
        self._deadlines.watch(self, due)

    def expired(self) -> None:
        self.head_due = None
        if self.cycle is None or self.cycle.response_complete:  # still waiting for headers
            self._raw.close()

    def data_received(self, data: bytes) -> None:
        if self.lingering:
            return  # the rest of what a closed connection sends: dropped
        super().data_received(data)

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:
            self.head_due = None  # a request arrived whole: the app has it now

    def send_400_response(self, msg: str) -> None:
        """What h11 refuses (uvicorn calls this while handling h11's error): API Gateway's JSON
        400, or 431 for a head longer than h11 holds."""
        error = sys.exception()
        status = 431 if getattr(error, "error_status_hint", None) == 431 else 400
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # its app hears of a disconnect, and answers nothing
            cycle.message_event.set()
        self.transport.drop()  # type: ignore[attr-defined]
        body = b'{"message":"%s"}' % STATUS_PHRASES[status]
        try:
            output = self.conn.send(h11.Response(
                status_code=status, reason=STATUS_PHRASES[status],
                headers=[(b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode()), (b"connection", b"close")]))
            output += self.conn.send(h11.Data(data=body)) + self.conn.send(h11.EndOfMessage())
        except h11.LocalProtocolError:  # a response had begun: it cannot be answered now
            output = b""
        if output:
            self._raw.write(output)
        self.close_gently()

    def close_gently(self) -> None:
        """Close after what was written is sent, reading and dropping what the client still
        sends for up to ``LINGER_SECONDS`` (RFC 9112, 9.6: a server that closes at once may
        reset the connection before the client reads the response)."""
        raw = self._raw
        if self.lingering or raw.is_closing():
            return
        if self._stopping or not raw.can_write_eof():
            raw.close()
            return
        self.lingering = True
        self.head_due = None
        self._unset_keepalive_if_required()
        self.flow.resume_reading()
        raw.write_eof()
        self._linger = self.loop.call_later(LINGER_SECONDS, raw.close)

    def on_response_complete(self) -> None:
        """uvicorn's, but for the timer: the next head's deadline also ends an idle keep-alive
        connection, and always before uvicorn's keep-alive timeout would, so that timer is not
        armed for every response."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self._arm()
        self.flow.resume_reading()
        if self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
            self.conn.start_next_cycle()  # a pipelined request may wait already
            self.handle_events()

    def shutdown(self) -> None:
        self._stopping = True
        if self.lingering:
            self._raw.close()
            return
        super().shutdown()

    def connection_lost(self, exc) -> None:
        self.head_due = None
        self._deadlines.protocols.discard(self)
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
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
            app, http=DeadlineProtocol, ws="none", lifespan="off", access_log=False,
            log_level="critical",
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
            # The executor is shut down by the loop's own thread, while it still runs: the caller's
            # thread may have an event loop of its own running (Playwright's sync API does), and
            # run_until_complete would refuse to run a second one there.
            if self._thread is not None and self._thread.is_alive():
                with contextlib.suppress(Exception):
                    asyncio.run_coroutine_threadsafe(self._loop.shutdown_default_executor(),
                                                     self._loop).result(timeout=5)
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._loop.close()
            self._loop = None
            self._thread = None
