"""The local sandbox's speed: ``figures()`` is one run, as ``benchmarks/run.py`` repeats it and
reports each figure's spread (keyed as its ``report.SANDBOX_FIGURES``):

- **startup**: ``python -m jwt_scoped sandbox --stack dev`` (the ``jwt-scoped`` command) in the
  project folder, from the command to serving (the banner printed), and as a ratio of the import
  floor (``python -c "import pulumi, pulumi_aws, pulumi_random"``, the floor ``run.py`` uses)
  taken just before it, which absorbs machine speed;
- **latency**: authorized ``GET /AdminUser`` requests, one after another on one keep-alive
  connection, to a warm function: the p50 in ms, and as a ratio of a bare server of the same HTTP
  stack (the sandbox's edge: uvicorn with h11, the same settings, answering a fixed 200),
  measured with the same client;
- **throughput**: requests per second under 20 concurrent keep-alive clients, the ratio to the
  bare server under the same load, and the failed requests (anything but a 200) of the latency,
  throughput and soak runs;
- **memory**: the sandbox process's resident set before and after a soak of 100,000 authorized
  requests (20 clients), its growth in MB and the ratio after ÷ before.

Latency and throughput use the blog's stack (``Pulumi.dev.yaml``) with its stage throttling
raised to the account quota (10,000 rps, burst 5,000), so they measure the gateway, not the
throttle. The sandbox runs in its own process, the bare server in another
(``python -m benchmarks.sandbox --serve-bare``), the clients in this one.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]
FLOOR = "import pulumi, pulumi_aws, pulumi_random"
STACK = "dev"
ROUTE_KEY = "GET /AdminUser"
USER = "adminuser"
CLIENTS = 20
OUTPUTS_LINE = "  Outputs"
"""The banner's line naming the sandbox's ``outputs.json``."""


class Sandboxed:
    """``jwt-scoped sandbox`` in its own process, until ``stop``."""

    def __init__(self, source: list[str], access_log: Path):
        """``source``: ``["--stack", NAME]`` or ``["--config", FILE]``."""
        self.started = time.perf_counter()
        self.process = subprocess.Popen(  # noqa: S603 -- this repository's own package
            [sys.executable, "-m", "jwt_scoped", "sandbox", *source, "--port", "0",
             "--access-log", str(access_log)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = []
        for line in self.process.stdout:  # the banner, printed at once when serving
            lines.append(line)
            if line.startswith("Stop with Ctrl-C"):
                break
        else:
            raise RuntimeError("the sandbox did not start:\n" + "".join(lines)
                               + self.process.stderr.read())
        self.seconds = time.perf_counter() - self.started
        outputs = next(line for line in lines if line.startswith(OUTPUTS_LINE)).split()[1]
        self.folder = Path(outputs).parent
        """Its own folder, ``.sandbox/<stack>-<port>/`` in the project."""
        self.outputs = json.loads(Path(outputs).read_text())

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.communicate(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)  # the logs it leaves, under a random port


def startup(workdir: Path) -> dict[str, float]:
    """Command-to-serving seconds of ``jwt-scoped sandbox --stack dev``, and the import floor
    just before it."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", FLOOR], cwd=ROOT, check=True)  # noqa: S603
    floor = time.perf_counter() - start
    run = Sandboxed(["--stack", STACK], workdir / "startup-access.log")
    run.stop()
    return {"startup_seconds": run.seconds, "startup_vs_floor": run.seconds / floor}


BODY = b'{"message": "Hello from Admin User", "caller": "adminuser"}'
"""What ``functions/hello`` answers on GET /AdminUser."""


async def _bare(scope, receive, send) -> None:
    """A fixed 200 with the body the gateway's function answers: the HTTP stack alone."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(BODY)).encode())]})
    await send({"type": "http.response.body", "body": BODY})


def serve_bare() -> None:
    """``python -m benchmarks.sandbox --serve-bare``: the sandbox's own edge (uvicorn, h11, the
    same settings) serving a fixed answer; print the port, serve until killed."""
    from jwt_scoped.sandbox.edge import Edge, bind

    sock = bind(0)
    Edge().serve(_bare, sock)
    print(sock.getsockname()[1], flush=True)
    threading.Event().wait()


def _request(connection: http.client.HTTPConnection, path: str, token: str | None) -> int:
    connection.request("GET", path, headers={"Authorization": token} if token else {})
    response = connection.getresponse()
    response.read()
    return response.status


def latency(port: int, path: str, token: str | None, requests: int) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(20):  # warm the connection and the function
        _request(connection, path, token)
    times, failed = [], 0
    for _ in range(requests):
        start = time.perf_counter()
        failed += _request(connection, path, token) != 200
        times.append((time.perf_counter() - start) * 1000)
    connection.close()
    return {"p50_ms": statistics.median(times), "failed": failed}


def throughput(port: int, path: str, token: str | None, clients: int, seconds: float,
               limit: int | None = None) -> dict:
    """``clients`` keep-alive clients for ``seconds``, or (``limit``) until they have sent
    that many requests in all."""
    counts = [0] * clients
    failures = [0] * clients
    deadline = time.perf_counter() + (seconds if limit is None else 3600.0)
    share = None if limit is None else -(-limit // clients)

    def client(i: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < deadline and (share is None or counts[i] < share):
            try:
                ok = _request(connection, path, token) == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            counts[i] += 1
            failures[i] += not ok
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return {"requests_per_second": sum(counts) / elapsed, "failed": sum(failures),
            "requests": sum(counts)}


def _token(outputs: dict) -> str:
    """``USER``'s token from the sandbox's Cognito: the one its API takes (``token_use``)."""
    from jwt_scoped.access.signin import cognito_client, sign_in
    from jwt_scoped.modes import TokenUse

    client = cognito_client(outputs["user_pool_id"], attempts=1, timeout=10,
                            endpoint=outputs["sandbox"]["cognito_endpoint"])
    return sign_in(client, outputs["app_client_id"], USER,
                   outputs["test_user_passwords"][USER])[TokenUse(outputs["token_use"])]


def rss_mb(pid: int) -> float:
    """The resident set of a process, in MB (Linux: ``/proc/<pid>/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def requests_through_the_gateway(workdir: Path, requests: int, seconds: float,
                                 soak: int) -> dict[str, float]:
    document = yaml.safe_load((ROOT / f"Pulumi.{STACK}.yaml").read_text())
    document["config"]["jwt-scoped-api:throttlingBurstLimit"] = 5000
    document["config"]["jwt-scoped-api:throttlingRateLimit"] = 10000
    stack = workdir / "Pulumi.bench.yaml"
    stack.write_text(yaml.safe_dump(document))
    bare = subprocess.Popen([sys.executable, "-m", "benchmarks.sandbox", "--serve-bare"],  # noqa: S603
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        sandbox = Sandboxed(["--config", str(stack)], workdir / "requests-access.log")
        try:
            bare_port = int(bare.stdout.readline())
            url = urlsplit(sandbox.outputs["route_urls"][ROUTE_KEY])
            token = _token(sandbox.outputs)
            gateway = latency(url.port, url.path, token, requests)
            # The same request to both, token included: the bare server ignores it.
            baseline = latency(bare_port, url.path, token, requests)
            loaded = throughput(url.port, url.path, token, CLIENTS, seconds)
            bare_loaded = throughput(bare_port, url.path, token, CLIENTS, seconds)
            before = rss_mb(sandbox.process.pid)
            soaked = throughput(url.port, url.path, token, CLIENTS, seconds, limit=soak)
            after = rss_mb(sandbox.process.pid)
        finally:
            sandbox.stop()
    finally:
        bare.kill()
        bare.wait()
    return {"request_p50_ms": gateway["p50_ms"],
            "request_p50_vs_bare": gateway["p50_ms"] / baseline["p50_ms"],
            "requests_per_second": loaded["requests_per_second"],
            "requests_per_second_vs_bare": loaded["requests_per_second"]
            / bare_loaded["requests_per_second"],
            "failed_requests": gateway["failed"] + loaded["failed"] + soaked["failed"],
            "soak_requests": soaked["requests"], "rss_growth_mb": after - before,
            "rss_after_vs_before": after / before}


def figures(*, requests: int = 1000, seconds: float = 3.0, soak: int = 100_000) -> dict[str, float]:
    """One run: one startup, ``requests`` timed requests each to the sandbox and the bare
    server, ``seconds`` of load on each, then ``soak`` requests to the sandbox with its resident
    set measured before and after."""
    with tempfile.TemporaryDirectory(prefix="sandbox-bench-") as folder:
        workdir = Path(folder)
        return {**startup(workdir),
                **requests_through_the_gateway(workdir, requests, seconds, soak)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sandbox",
                                     description="the bare server benchmarks/run.py compares with")
    parser.add_argument("--serve-bare", action="store_true", required=True)
    parser.parse_args(argv)
    serve_bare()
    return 0


if __name__ == "__main__":
    sys.exit(main())
