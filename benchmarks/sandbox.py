"""The local sandbox's speed: ``python -m benchmarks.sandbox [--quick] [--json FILE]``.

``measure()`` returns a dict of figures (``benchmarks/run.py`` can merge it into its report):

- **startup**: ``python -m sandbox --stack dev`` from the command to "serving" (the banner's
  last line), min/median/max over fresh processes, and as a ratio of the import floor
  (``python -c "import pulumi, pulumi_aws, pulumi_random"``, the floor ``run.py`` uses), which
  absorbs machine speed;
- **latency**: authorized ``GET /AdminUser`` requests, one after another on one keep-alive
  connection, to a warm function: p50/p90/p99 in ms, and the p50 as a ratio of a bare
  ``http.server`` (same server class and settings, answering a fixed 200) measured with the
  same client;
- **throughput**: requests per second under 20 concurrent keep-alive clients, with the number
  of failed requests (anything but a 200), and the ratio to the bare server under the same load.

Latency and throughput use the blog's stack (``Pulumi.dev.yaml``) with its stage throttling
raised to the account quota (10,000 rps, burst 5,000), so they measure the gateway, not the
throttle. The sandbox runs in its own process; the clients in this one.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
FLOOR = "import pulumi, pulumi_aws, pulumi_random"
STACK = ROOT / "Pulumi.dev.yaml"
ROUTE = "/Test/AdminUser"
# Targets (issue 8).
MAX_STARTUP_SECONDS = 3.0
MAX_P50_MS = 5.0
CLIENTS = 20


def _spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Sandboxed:
    """``python -m sandbox`` in its own process, until ``stop``."""

    def __init__(self, stack: Path, workdir: Path):
        self.started = time.perf_counter()
        self.process = subprocess.Popen(  # noqa: S603 -- this repository's own module
            [sys.executable, "-m", "sandbox", "--config", str(stack), "--port", "0",
             "--outputs", str(workdir / "outputs.json"), "--logs", str(workdir / "logs"),
             "--access-log", str(workdir / "access.log")],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = []
        for line in self.process.stdout:
            lines.append(line)
            if line.startswith("Stop with Ctrl-C"):
                break
        else:
            raise RuntimeError("the sandbox did not start:\n" + "".join(lines)
                               + self.process.stderr.read())
        self.seconds = time.perf_counter() - self.started
        self.outputs = json.loads((workdir / "outputs.json").read_text())

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.communicate(timeout=30)


def startup(runs: int, workdir: Path) -> dict:
    """Command-to-serving seconds of ``python -m sandbox --stack dev``, and the import floor,
    interleaved."""
    sandbox, floor = [], []
    for i in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", FLOOR], cwd=ROOT, check=True)  # noqa: S603
        floor.append(time.perf_counter() - start)
        run = Sandboxed(STACK, workdir / f"startup-{i}")
        run.stop()
        sandbox.append(run.seconds)
    return {"seconds": _spread(sandbox), "floor_seconds": _spread(floor),
            "vs_floor": statistics.median(sandbox) / statistics.median(floor), "runs": runs}


class _Bare(BaseHTTPRequestHandler):
    """A fixed 200, served the way the gateway serves (keep-alive, Nagle off)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    BODY = b'{"message":"Hello from Admin User","caller":"adminuser"}'

    def do_GET(self):  # noqa: N802 -- http.server's naming
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("Content-Length", str(len(self.BODY)))
        self.end_headers()
        self.wfile.write(self.BODY)

    def log_message(self, *args):
        pass


def serve_bare() -> None:
    """``python -m benchmarks.sandbox --serve-bare``: print the port, serve until killed."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Bare)
    print(server.server_address[1], flush=True)
    server.serve_forever()


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
    return {"p50_ms": statistics.median(times), "p90_ms": _quantile(times, 0.9),
            "p99_ms": _quantile(times, 0.99), "requests": requests, "failed": failed}


def throughput(port: int, path: str, token: str | None, clients: int, seconds: float) -> dict:
    counts = [0] * clients
    failures = [0] * clients
    deadline = time.perf_counter() + seconds

    def client(i: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < deadline:
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
    return {"requests_per_second": sum(counts) / elapsed, "requests": sum(counts),
            "failed": sum(failures), "clients": clients, "seconds": elapsed}


def _token(outputs: dict) -> str:
    os.environ["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"] = outputs["sandbox"]["cognito_endpoint"]
    sys.path.insert(0, str(ROOT))
    from jwt_scoped.access.signin import cognito_client, sign_in
    from jwt_scoped.modes import TokenUse

    client = cognito_client(outputs["user_pool_id"], attempts=1, timeout=10)
    return sign_in(client, outputs["app_client_id"], "adminuser",
                   outputs["test_user_passwords"]["adminuser"])[TokenUse(outputs["token_use"])]


def requests_through_the_gateway(workdir: Path, requests: int, seconds: float) -> dict:
    config = yaml.safe_load(STACK.read_text())
    config["config"]["jwt-scoped-api:throttlingBurstLimit"] = 5000
    config["config"]["jwt-scoped-api:throttlingRateLimit"] = 10000
    stack = workdir / "Pulumi.bench.yaml"
    stack.write_text(yaml.safe_dump(config))
    bare = subprocess.Popen([sys.executable, "-m", "benchmarks.sandbox", "--serve-bare"],  # noqa: S603
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    sandbox = Sandboxed(stack, workdir / "requests")
    try:
        bare_port = int(bare.stdout.readline())
        port = int(sandbox.outputs["api_url"].split(":")[2].split("/")[0])
        token = _token(sandbox.outputs)
        gateway = latency(port, ROUTE, token, requests)
        baseline = latency(bare_port, ROUTE, None, requests)
        loaded = throughput(port, ROUTE, token, CLIENTS, seconds)
        bare_loaded = throughput(bare_port, ROUTE, None, CLIENTS, seconds)
    finally:
        sandbox.stop()
        bare.kill()
        bare.wait()
    return {"latency": {**gateway, "bare_p50_ms": baseline["p50_ms"],
                        "p50_vs_bare": gateway["p50_ms"] / baseline["p50_ms"]},
            "throughput": {**loaded, "bare_requests_per_second": bare_loaded["requests_per_second"],
                           "vs_bare": loaded["requests_per_second"]
                           / bare_loaded["requests_per_second"]}}


def measure(*, startups: int = 5, requests: int = 2000, seconds: float = 5.0) -> dict:
    """Every figure, as a dict (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="sandbox-bench-") as folder:
        workdir = Path(folder)
        figures = {"startup": startup(startups, workdir),
                   **requests_through_the_gateway(workdir, requests, seconds)}
    figures["targets"] = {
        "startup_under_3s": figures["startup"]["seconds"]["max"] < MAX_STARTUP_SECONDS,
        "p50_under_5ms": figures["latency"]["p50_ms"] < MAX_P50_MS,
        "no_failed_requests": figures["throughput"]["failed"] == 0
        and figures["latency"]["failed"] == 0}
    figures["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                          "load_average": os.getloadavg()}
    return figures


def figures(*, startups: int = 1, requests: int = 1000, seconds: float = 3.0) -> dict[str, float]:
    """One run's figures, flat, keyed as ``benchmarks/run.py`` reports them (its
    ``report.SANDBOX_FIGURES``): run.py repeats this and reports each figure's spread."""
    measured = measure(startups=startups, requests=requests, seconds=seconds)
    return {"startup_seconds": measured["startup"]["seconds"]["median"],
            "request_p50_ms": measured["latency"]["p50_ms"],
            "requests_per_second": measured["throughput"]["requests_per_second"],
            "failed_requests": measured["throughput"]["failed"] + measured["latency"]["failed"]}


def markdown(figures: dict) -> str:
    s, lat, thr = figures["startup"], figures["latency"], figures["throughput"]
    rows = [
        "| Figure | Measured | Ratio | Target |",
        "|---|---|---|---|",
        f"| startup, command to serving (s, min / median / max of {s['runs']}) | "
        f"{s['seconds']['min']:.2f} / {s['seconds']['median']:.2f} / {s['seconds']['max']:.2f} | "
        f"{s['vs_floor']:.1f}x the import floor ({s['floor_seconds']['median']:.2f} s) | "
        f"< {MAX_STARTUP_SECONDS:.0f} s: {'PASS' if figures['targets']['startup_under_3s'] else 'MISS'} |",
        f"| authorized request to a warm function, p50 / p90 / p99 (ms) | {lat['p50_ms']:.2f} / "
        f"{lat['p90_ms']:.2f} / {lat['p99_ms']:.2f} | p50 {lat['p50_vs_bare']:.1f}x a bare "
        f"http.server ({lat['bare_p50_ms']:.2f} ms) | p50 < {MAX_P50_MS:.0f} ms: "
        f"{'PASS' if figures['targets']['p50_under_5ms'] else 'MISS'} |",
        f"| requests/s, {thr['clients']} concurrent clients ({thr['requests']} requests, "
        f"{thr['failed']} failed) | {thr['requests_per_second']:.0f} | "
        f"{thr['vs_bare']:.2f}x a bare http.server ({thr['bare_requests_per_second']:.0f}) | "
        f"0 failed: {'PASS' if figures['targets']['no_failed_requests'] else 'MISS'} |",
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sandbox", description=__doc__.split(
        "\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 startups, shorter request runs")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare:
        serve_bare()
        return 0
    figures = (measure(startups=2, requests=500, seconds=2.0) if args.quick else measure())
    print(markdown(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if all(figures["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
