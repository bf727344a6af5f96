"""The sandbox's edge over raw sockets: what reaches a function and what API Gateway refuses
before it, for requests an HTTP client library would not send.

- a chunked body is the body (the function sees it whole), and what follows it on a keep-alive
  connection is a request of its own, authorized on its own; a ``Content-Length`` beside it is
  refused;
- a ``Content-Length`` that is no number, negative or given twice differently, a malformed
  request line, a missing or repeated ``Host``: 400 with a status line, nothing printed;
- API Gateway's quotas: the request line and header values (10,240 bytes, 431), the payload
  (10 MB, 413), Lambda's invocation payload each way (6 MB: 413 for the event, the function not
  invoked; 500 for the answer);
- an unknown method is a request no route matches (API Gateway's JSON 404);
- resets, slow headers and bursts of connections; memory that stays flat under load.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from jwt_scoped import rules
from jwt_scoped.sandbox import edge
from jwt_scoped.sandbox.access_log import render
from jwt_scoped.sandbox.gateway import MAX_PAYLOAD_BYTES
from jwt_scoped.sandbox.lambdas import MAX_EVENT_BYTES, MAX_RESULT_BYTES

from fixtures.stacks import NS, blog_config
from sandbox_harness import call, function_code, sign_in, started

# The route's function: what it was sent (``?echo``: the whole event), or an answer of
# ``?size=`` bytes, after ``?sleep=``.
SHOW = """
import json, time

def handler(event, context):
    query = event.get("queryStringParameters") or {}
    time.sleep(float(query.get("sleep", 0)))
    if "echo" in query:
        return {"statusCode": 200, "body": json.dumps(event)}
    if "size" in query:
        return {"statusCode": 200, "body": "x" * int(query["size"])}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"body": event.get("body"), "rawPath": event["rawPath"],
                                "base64": event["isBase64Encoded"],
                                "headers": event["headers"]})}
"""
JSON_400 = b'{"message":"Bad Request"}'


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    config = blog_config()  # throttled as the account is, so the load below is not refused
    config[f"{NS}:throttlingBurstLimit"], config[f"{NS}:throttlingRateLimit"] = 5000, 10000
    with started(config, tmp_path_factory.mktemp("edge"),
                 edit=function_code("hello", {"handler.py": SHOW})) as running:
        url = urlsplit(running.outputs["route_urls"]["GET /AdminUser"])
        running.port, running.path = url.port, url.path
        running.token = sign_in(running, "adminuser")["IdToken"]
        running.function = next(f.id for f in running.run.of_type("aws:lambda/function:Function")
                                if f.name == "hello")
        yield running


# ---- raw HTTP ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    status: int
    status_line: bytes
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


def connect(sandbox, timeout: float = 10) -> socket.socket:
    return socket.create_connection(("127.0.0.1", sandbox.port), timeout=timeout)


def read_response(sock: socket.socket, buffer: bytearray | None = None) -> Response | None:
    """The next response on ``sock`` (``None``: closed first); ``buffer`` keeps what was read
    past it for the next one."""
    buffer = bytearray() if buffer is None else buffer
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            assert not buffer, f"closed mid-response: {bytes(buffer)!r}"
            return None
        buffer += chunk
    head, _, _ = bytes(buffer).partition(b"\r\n\r\n")
    del buffer[:len(head) + 4]
    status_line, *lines = head.split(b"\r\n")
    assert re.fullmatch(rb"HTTP/1\.1 \d{3} [A-Za-z ]+", status_line), status_line
    headers = {}
    for line in lines:
        name, _, value = line.decode("latin-1").partition(":")
        assert name.lower() not in headers, f"{name} twice"
        headers[name.lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(buffer) < length:
        chunk = sock.recv(65536)
        assert chunk, "closed mid-body"
        buffer += chunk
    body = bytes(buffer[:length])
    del buffer[:length]
    return Response(int(status_line.split()[1]), status_line, headers, body)


def closed(sock: socket.socket) -> bool:
    """Whether the other side closed the connection (within the socket's timeout)."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def exchange(sandbox, data: bytes) -> tuple[list[Response], bool]:
    """Send ``data`` on a new connection: every response to it, and whether the sandbox then
    closed the connection (it closes at once, or keeps it open longer than this waits)."""
    with connect(sandbox) as sock:
        sock.sendall(data)
        buffer, responses = bytearray(), []
        sock.settimeout(0.3)
        try:
            while (response := read_response(sock, buffer)) is not None:
                responses.append(response)
        except TimeoutError:  # kept open: no more responses
            return responses, False
        return responses, True


def request(sandbox, method: str = "GET", path: str | None = None, *, token: bool = True,
            headers: dict[str, str] | None = None, body: bytes = b"", version: str = "1.1",
            close: bool = False) -> bytes:
    """A request's bytes; ``close``: the last on its connection."""
    lines = [f"{method} {path or sandbox.path} HTTP/{version}", f"Host: 127.0.0.1:{sandbox.port}"]
    if token:
        lines.append(f"Authorization: {sandbox.token}")
    if close:
        lines.append("Connection: close")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(*parts: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def starts(sandbox) -> int:
    """Invocations the function's log shows (Lambda's ``START RequestId`` lines)."""
    return (sandbox.logs_dir / f"{sandbox.function}.log").read_text().count("START RequestId: ")


# ---- 1. chunked bodies and what follows them -----------------------------------------------


def test_a_chunked_body_reaches_the_function_whole(sandbox):
    data = request(sandbox, headers={"Transfer-Encoding": "chunked", "Content-Type": "text/plain"},
                   close=True) + chunked(b"hello", b" chunked world")
    (response,), _ = exchange(sandbox, data)
    assert response.status == 200
    seen = response.json()
    assert seen["body"] == "hello chunked world" and seen["base64"] is False
    assert "transfer-encoding" in seen["headers"]  # as API Gateway passes it


def test_a_request_after_a_chunked_body_is_its_own_and_needs_its_own_token(sandbox):
    smuggled = request(sandbox, token=False)  # no Authorization of its own
    data = (request(sandbox, headers={"Transfer-Encoding": "chunked", "Content-Type": "text/plain"})
            + chunked(b"first") + smuggled
            + request(sandbox, close=True))
    responses, was_closed = exchange(sandbox, data)
    assert [r.status for r in responses] == [200, 401, 200] and was_closed
    assert responses[0].json()["body"] == "first"  # nothing of the next request in it
    assert responses[1].json() == {"message": "Unauthorized"}
    assert responses[2].json()["body"] is None


@pytest.mark.parametrize("framing", [
    # CL.TE: a front end reading Content-Length would pass the rest on as a second request
    {"Content-Length": "6", "Transfer-Encoding": "chunked"},
    {"Transfer-Encoding": "chunked", "Content-Length": "40"},
])
def test_a_content_length_beside_chunked_is_refused_and_the_rest_not_served(sandbox, framing):
    smuggled = request(sandbox, token=False)
    data = request(sandbox, headers={**framing, "Content-Type": "text/plain"}) + chunked(b"x") + smuggled
    responses, was_closed = exchange(sandbox, data)
    assert [(r.status, r.body) for r in responses] == [(400, JSON_400)] and was_closed


@pytest.mark.parametrize("encoding", ["xchunked", "chunked, identity", "gzip", "identity"])
def test_a_transfer_encoding_other_than_chunked_is_refused(sandbox, encoding):
    responses, was_closed = exchange(sandbox, request(sandbox, headers={
        "Transfer-Encoding": encoding}) + chunked(b"x"))
    assert [r.status for r in responses] == [400] and was_closed


# ---- 2. Content-Length that is no length ---------------------------------------------------


@pytest.mark.parametrize("lengths", [["abc"], ["-1"], ["1", "2"], ["1, 2"], ["+1"], ["0x10"]])
def test_a_content_length_that_is_no_length_gets_400(sandbox, lengths, capfd):
    headers = "".join(f"Content-Length: {value}\r\n" for value in lengths)
    data = request(sandbox).replace(b"\r\n\r\n", b"\r\n" + headers.encode() + b"\r\n") + b"ab"
    responses, was_closed = exchange(sandbox, data)
    assert [(r.status_line, r.body) for r in responses] == [(b"HTTP/1.1 400 Bad Request", JSON_400)]
    assert responses[0].headers["content-type"] == "application/json" and was_closed
    assert capfd.readouterr() == ("", "")


def test_the_same_content_length_twice_is_one(sandbox):
    data = request(sandbox, headers={"Content-Length": "2", "content-length": "2",
                                     "Content-Type": "text/plain"}, body=b"ab", close=True)
    (response,), _ = exchange(sandbox, data)
    assert response.status == 200 and response.json()["body"] == "ab"


# ---- 3. API Gateway's quotas ---------------------------------------------------------------


def _padded(sandbox, total: int) -> bytes:
    """A request whose request line and header values come to ``total`` bytes."""
    base = request(sandbox, headers={"X-Pad": ""}, close=True)
    head = base.split(b"\r\n\r\n")[0].split(b"\r\n")
    size = len(head[0]) + sum(len(line.partition(b":")[2].strip()) for line in head[1:])
    return request(sandbox, headers={"X-Pad": "p" * (total - size)}, close=True)


def test_request_line_and_header_values_over_10240_bytes_get_431(sandbox):
    limit = rules.MAX_REQUEST_LINE_AND_HEADERS_BYTES
    assert limit == 10_240
    (served,), _ = exchange(sandbox, _padded(sandbox, limit))
    assert served.status == 200
    responses, was_closed = exchange(sandbox, _padded(sandbox, limit + 1))
    assert [(r.status, r.body) for r in responses] == [
        (431, b'{"message":"Request Header Fields Too Large"}')] and was_closed
    # far over it, whole or still coming past what the HTTP parser holds: the same answer
    for data in (_padded(sandbox, 100_000), _padded(sandbox, 100_000).removesuffix(b"\r\n\r\n")):
        responses, was_closed = exchange(sandbox, data)
        assert [(r.status, r.body) for r in responses] == [
            (431, b'{"message":"Request Header Fields Too Large"}')] and was_closed


def test_a_body_over_10_mb_gets_413(sandbox):
    # Declared: refused from the head, before the body is sent.
    with connect(sandbox) as sock:
        sock.sendall(request(sandbox, headers={"Content-Length": str(MAX_PAYLOAD_BYTES + 1)}))
        response = read_response(sock)
        assert (response.status, response.body) == (413, b'{"message":"Request Entity Too Large"}')
        assert closed(sock)
    # Chunked: refused once the body passes the quota; the rest read and dropped.
    with connect(sandbox) as sock:
        sock.sendall(request(sandbox, headers={"Transfer-Encoding": "chunked"}))
        piece = b"%x\r\n%s\r\n" % (1 << 20, b"y" * (1 << 20))
        sender = threading.Thread(target=_send_quietly, args=(sock, piece * 12 + b"0\r\n\r\n"))
        sender.start()
        response = read_response(sock)
        sender.join()
        assert response.status == 413 and closed(sock)
    # From a client that sends the whole body first, as most do.
    answer = call(f"http://127.0.0.1:{sandbox.port}{sandbox.path}", method="POST",
                  token=sandbox.token, body=b"z" * (MAX_PAYLOAD_BYTES + 1))
    assert answer.status == 413


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    try:
        sock.sendall(data)
    except OSError:  # the sandbox closed it: its answer is already on the way
        pass


def test_an_event_over_lambdas_6_mb_gets_413_and_the_function_is_not_invoked(sandbox):
    url = f"http://127.0.0.1:{sandbox.port}{sandbox.path}"
    before = starts(sandbox)
    answer = call(url, token=sandbox.token, headers={"Content-Type": "text/plain"},
                  body=b"e" * (MAX_EVENT_BYTES + 1000))  # within API Gateway's 10 MB
    assert (answer.status, answer.body) == (413, b'{"message":"Request Entity Too Large"}')
    assert call(url, token=sandbox.token).status == 200
    assert starts(sandbox) == before + 1  # only the second call reached the function


def test_an_answer_over_lambdas_6_mb_gets_500(sandbox):
    url = f"http://127.0.0.1:{sandbox.port}{sandbox.path}"
    answer = call(f"{url}?size={MAX_RESULT_BYTES + 1}", token=sandbox.token)
    assert (answer.status, answer.body) == (500, b'{"message":"Internal Server Error"}')
    assert len(call(f"{url}?size={MAX_RESULT_BYTES - 100}", token=sandbox.token).body) \
        == MAX_RESULT_BYTES - 100  # under it: served


# ---- 4. malformed requests, resets, slow clients, bursts -----------------------------------


@pytest.mark.parametrize("data", [
    b"GARBAGE\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET /Test/AdminUser\r\n\r\n",  # HTTP/0.9
    b"GET /Test/AdminUser HTTP/1.1 extra\r\nHost: x\r\n\r\n",
    b"GET  /Test/AdminUser HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /Test/Admin User HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /Test/AdminUser HTTP/2.0\r\nHost: x\r\n\r\n",
    b"GET /Test/AdminUser HTTP/1.1\r\nHost x\r\n\r\n",
    b"G\x00T /Test/AdminUser HTTP/1.1\r\nHost: x\r\n\r\n",
    b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(range(32)) + b"\r\n\r\n",  # TLS hello
], ids=["garbage", "method only", "http/0.9", "extra", "two spaces", "space in path",
        "http/2.0", "header without colon", "nul", "tls"])
def test_malformed_requests_get_400_with_a_status_line(sandbox, data, capfd):
    responses, was_closed = exchange(sandbox, data)
    assert [(r.status_line, r.body) for r in responses] == [(b"HTTP/1.1 400 Bad Request", JSON_400)]
    assert was_closed
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("method", ["FOO", "BREW", "PROPFIND", "get"])
def test_an_unknown_method_matches_no_route(sandbox, method):
    # API Gateway selects routes by method and path: no route has this method (and the blog has
    # no $default route), so it answers as for any unmatched request, and the connection goes on.
    responses, _ = exchange(sandbox, request(sandbox, method) + request(sandbox, close=True))
    assert [(r.status, r.body) for r in responses][0] == (404, b'{"message":"Not Found"}')
    assert responses[0].headers["content-type"] == "application/json"
    assert [r.status for r in responses] == [404, 200]


@pytest.mark.parametrize("hosts", [[], ["a.example"] * 2, ["a.example", "b.example"]])
def test_a_missing_or_repeated_host_gets_400(sandbox, hosts):
    data = request(sandbox, close=True).replace(f"Host: 127.0.0.1:{sandbox.port}\r\n".encode(),
                                                "".join(f"Host: {h}\r\n" for h in hosts).encode())
    responses, was_closed = exchange(sandbox, data)
    assert [(r.status, r.body) for r in responses] == [(400, JSON_400)] and was_closed


def test_an_http_1_0_request_needs_no_host(sandbox):
    data = request(sandbox, version="1.0").replace(
        f"Host: 127.0.0.1:{sandbox.port}\r\n".encode(), b"")
    responses, was_closed = exchange(sandbox, data)
    assert [r.status for r in responses] == [200] and was_closed


def _reset(sock: socket.socket) -> None:
    """Close with an RST, as a client that gives up does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_clients_that_reset_mid_request_leave_nothing_printed(sandbox, capfd, caplog):
    caplog.set_level(logging.WARNING)
    half_body = request(sandbox, headers={"Content-Length": "100"}, body=b"x" * 10)
    for data, wait in [(half_body, 0.05), (b"GET /Test/Adm", 0.05),  # mid-body, mid-head
                       (request(sandbox, path=f"{sandbox.path}?sleep=0.15"), 0.05)]:  # mid-call
        sock = connect(sandbox)
        sock.sendall(data)
        time.sleep(wait)
        _reset(sock)
    time.sleep(0.2)  # the function's answer comes back to nobody
    (response,), _ = exchange(sandbox, request(sandbox, close=True))
    assert response.status == 200
    assert capfd.readouterr() == ("", "")
    assert [r.getMessage() for r in caplog.records] == []


def test_headers_sent_slower_than_the_deadline_are_cut_off(sandbox, monkeypatch):
    monkeypatch.setattr(edge, "HEADER_DEADLINE_SECONDS", 0.3)
    data = request(sandbox)
    with connect(sandbox) as sock:
        started_at = time.perf_counter()
        cut = None
        for byte in data:
            try:
                sock.send(bytes([byte]))
            except OSError:
                cut = time.perf_counter()
                break
            sock.settimeout(0.05)
            try:
                if sock.recv(1) == b"":
                    cut = time.perf_counter()
                    break
            except TimeoutError:
                continue
            except ConnectionResetError:
                cut = time.perf_counter()
                break
        assert cut is not None, "the whole request went through"
    assert 0.3 <= cut - started_at < 1.5
    # The deadline is for the head: a request that arrives whole is served, and the next one on
    # the same connection gets a new deadline.
    with connect(sandbox) as sock:
        for _ in range(2):
            sock.sendall(data)
            assert read_response(sock).status == 200
            time.sleep(0.15)


def test_a_burst_of_200_connections_is_answered_without_waiting_for_a_retry(sandbox):
    count, barrier = 200, threading.Barrier(200)
    times: list[float] = []
    statuses: list[int] = []
    data = request(sandbox, path="/Test/nowhere", headers={"Connection": "close"})

    def client() -> None:
        barrier.wait()
        start = time.perf_counter()
        with connect(sandbox, timeout=5) as sock:
            sock.sendall(data)
            statuses.append(read_response(sock).status)
        times.append(time.perf_counter() - start)

    threads = [threading.Thread(target=client) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [404] * count
    # A connection the listen backlog had no room for would wait for its SYN to be resent (1 s).
    assert max(times) < 0.9, sorted(times)[-5:]


# ---- 8. memory under load -------------------------------------------------------------------


def _rss_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def test_memory_stays_flat_over_thousands_of_requests(sandbox):
    # Half to the route, half to distinct paths (each one remembered by the route-selection
    # cache, which is bounded), all authorized, from 4 keep-alive connections.
    def load(first: int, count: int) -> list[int]:
        statuses: list[int] = []

        def client(offset: int) -> None:
            with connect(sandbox) as sock:
                buffer = bytearray()
                for i in range(first + offset, first + count, 4):
                    path = sandbox.path if i % 2 else f"{sandbox.path}/{i}"
                    sock.sendall(request(sandbox, path=path))
                    statuses.append(read_response(sock, buffer).status)

        threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return statuses

    assert set(load(0, 500)) == {200, 404}
    after_first = _rss_kb()
    statuses = load(500, 4500)
    grown = _rss_kb() - after_first
    assert statuses.count(200) == statuses.count(404) == 2250
    assert grown < 4096, f"RSS grew by {grown} kB"


# ---- the gateway's shortcuts: the same event, the same log line ----------------------------


def test_the_function_gets_the_event_the_gateway_built(sandbox, monkeypatch):
    built = []
    invoke = sandbox.lambdas.invoke_async

    async def spy(spec, event, timeout=None, payload=None):
        built.append(json.loads(json.dumps(event)))
        return await invoke(spec, event, timeout, payload)

    monkeypatch.setattr(sandbox.lambdas, "invoke_async", spy)
    url = f"http://127.0.0.1:{sandbox.port}{sandbox.path}?echo=1&q=%22%5C%00"
    # twice with the token: its claims encoded for the first call, reused for the second
    seen = [call(url, token=sandbox.token, headers={"X-Odd": 'a"b\\c'}).json() for _ in range(2)]
    assert seen == built and seen[0]["requestContext"]["authorizer"]["jwt"]["claims"]
    assert seen[0]["queryStringParameters"] == {"echo": "1", "q": '"\\\x00'}


def test_the_access_log_line_is_what_access_log_renders():
    from jwt_scoped.sandbox.gateway import _Variables, log_line  # the gateway's faster render

    log_format = ('{"id":"$context.requestId","sub":"$context.authorizer.claims.sub",'
                  '"none":"$context.authorizer.claims.none","status":$context.status,'
                  '"empty":"$context.path","unset":"$context.integrationErrorMessage"} '
                  "$context.protocol")
    variables = _Variables(requestId='q"\\\n\u00e9\U0001F600\x7f', status=200, path="",
                           protocol="HTTP/1.1")
    variables.claims = {"sub": 's "1"\t'}
    assert log_line(log_format, variables) == render(log_format, variables)
    assert log_line(log_format, _Variables()) == render(log_format, _Variables())


def test_a_sandbox_stops_cleanly_from_a_thread_that_runs_an_event_loop(tmp_path):
    """A caller with its own running event loop (Playwright's sync API, a notebook) can stop a
    sandbox: the edge's loop is shut down by its own thread, and the port is free afterwards."""
    import asyncio

    async def start_and_stop() -> int:
        with started(blog_config(), tmp_path) as sandbox:
            port = urlsplit(sandbox.api_url).port
            assert call(sandbox.api_url + "/AdminUser").status == 401
        return port

    ports: list[int] = []
    # In a thread of its own: asyncio.run leaves its thread without an event loop, and the
    # main thread's is the one Pulumi's mocks use.
    runner = threading.Thread(target=lambda: ports.append(asyncio.run(start_and_stop())))
    runner.start()
    runner.join(timeout=60)
    (port,) = ports
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # released
