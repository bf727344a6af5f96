"""The sandbox's functions as Lambda runs them, seen from the API and from their logs:

- an execution environment killed while idle is replaced for the next call (a route's function
  and Cognito's trigger alike);
- API Gateway's integration timeout bounds the whole call, the wait for a free environment and a
  cold start included: what would finish later gets 503 at the deadline, and the invocation
  itself runs on (Lambda does not stop a function its caller stopped waiting for);
- what the Lambda Python runtime writes to the function's log for an error: the error as JSON
  (``errorType``, ``errorMessage``, ``stackTrace``, ``requestId``) and the traceback, at each
  invocation and, for an error of the init phase, at init too.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time

import pytest
from botocore.exceptions import ClientError

from fixtures.stacks import blog_config
from sandbox_harness import call, change, combined, function_code, sign_in, started

FUNCTION = "aws:lambda/function:Function"
INTEGRATION = "aws:apigatewayv2/integration:Integration"
ROUTE = "aws:apigatewayv2/route:Route"
TRIGGER = "identity-pre-token"
TIMEOUT_MS = 1500

# The route's function: its process id after ``?sleep=`` seconds, or ``?raise=`` an error; its
# init sleeps as long as the file ``MARKER`` says (when there is one).
SLEEPER = """
import os, time

MARKER = {marker!r}
if os.path.exists(MARKER):
    time.sleep(float(open(MARKER).read()))


def handler(event, context):
    query = event.get("queryStringParameters") or {{}}
    time.sleep(float(query.get("sleep", 0)))
    if "raise" in query:
        fail(query["raise"])
    return {{"pid": os.getpid()}}


def fail(message):
    raise ValueError(message)
"""


def function_name(sandbox, resource_name: str) -> str:
    return next(f.id for f in sandbox.run.of_type(FUNCTION) if f.name == resource_name)


def log_of(sandbox, resource_name: str) -> str:
    return (sandbox.logs_dir / f"{function_name(sandbox, resource_name)}.log").read_text()


def error_records(log: str) -> list[dict]:
    """The JSON error records a log holds."""
    records = []
    for line in log.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if "errorType" in record:
                records.append(record)
    return records


def kill(pid: int) -> None:
    """SIGKILL, and wait until the process is gone (a zombie, or reaped)."""
    os.kill(pid, signal.SIGKILL)
    for _ in range(200):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rpartition(")")[2].split()[0] in ("Z", "X"):
                    return
        except FileNotFoundError:
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} still running")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    folder = tmp_path_factory.mktemp("functions")
    marker = folder / "init-seconds"
    edit = combined(function_code("hello", {"handler.py": SLEEPER.format(marker=str(marker))}),
                change(INTEGRATION, lambda name, i: {**i, "timeoutMilliseconds": TIMEOUT_MS}))
    with started(blog_config(), folder, edit=edit, max_concurrency=1) as running:
        running.url = running.outputs["route_urls"]["GET /AdminUser"]
        running.token = sign_in(running, "adminuser")["IdToken"]
        running.marker = marker
        yield running


def pid_of(sandbox) -> int:
    answer = call(sandbox.url, token=sandbox.token)
    assert answer.status == 200, answer
    return answer.json()["pid"]


# ---- 5. a killed idle environment ----------------------------------------------------------


def test_a_killed_idle_worker_is_replaced_for_the_next_call(sandbox):
    first = pid_of(sandbox)
    os.kill(first, signal.SIGKILL)  # and the next call at once
    second = pid_of(sandbox)
    assert second != first
    kill(second)
    assert pid_of(sandbox) not in (first, second)


def test_a_killed_idle_trigger_worker_is_replaced_for_the_next_sign_in(sandbox):
    trigger = function_name(sandbox, TRIGGER)
    (pid,) = sandbox.lambdas.worker_pids(trigger)
    kill(pid)
    assert sign_in(sandbox, "regularuser")["IdToken"]
    (replacement,) = sandbox.lambdas.worker_pids(trigger)
    assert replacement != pid


# ---- 6. the integration timeout bounds the whole call --------------------------------------


def _concurrently(url: str, token: str, count: int) -> list[tuple[int, bytes, float]]:
    barrier, results = threading.Barrier(count), []

    def client() -> None:
        barrier.wait()
        start = time.perf_counter()
        answer = call(url, token=token)
        results.append((answer.status, answer.body, time.perf_counter() - start))

    threads = [threading.Thread(target=client) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(results, key=lambda r: r[2])


def test_calls_that_would_end_after_the_integration_timeout_get_503_at_it(sandbox):
    busy = pid_of(sandbox)
    deadline = TIMEOUT_MS / 1000
    # One environment, 0.4 s a call: the fourth would end at 1.6 s, the fifth later still.
    results = _concurrently(f"{sandbox.url}?sleep=0.4", sandbox.token, 5)
    assert [status for status, _, _ in results] == [200, 200, 200, 503, 503], results
    for status, body, seconds in results:
        if status == 503:
            assert body == b'{"message":"Service Unavailable"}'
            assert deadline <= seconds < deadline + 0.3, results  # at the deadline, not later
        else:
            assert seconds < deadline
    # The fourth call's invocation went on after its caller's deadline, in the same environment,
    # which the next call finds warm.
    assert pid_of(sandbox) == busy


def test_a_cold_start_counts_against_the_integration_timeout(sandbox):
    sandbox.marker.write_text("2")  # the next environment takes 2 s to start
    try:
        kill(pid_of(sandbox))
        start = time.perf_counter()
        answer = call(sandbox.url, token=sandbox.token)
        seconds = time.perf_counter() - start
    finally:
        sandbox.marker.unlink()
    assert (answer.status, answer.body) == (503, b'{"message":"Service Unavailable"}')
    assert TIMEOUT_MS / 1000 <= seconds < TIMEOUT_MS / 1000 + 0.3
    # The environment that was starting joins the pool once it has: the next call waits for it.
    assert pid_of(sandbox) > 0


# ---- 7. what Lambda logs for an error ------------------------------------------------------


def test_an_error_a_handler_raises_is_logged_as_json_and_as_a_traceback(sandbox):
    answer = call(f"{sandbox.url}?raise=no+luck", token=sandbox.token)
    assert (answer.status, answer.body) == (500, b'{"message":"Internal Server Error"}')
    log = log_of(sandbox, "hello")
    (record,) = [r for r in error_records(log) if r["errorType"] == "ValueError"]
    assert record["errorMessage"] == "no luck"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        record["requestId"])
    assert f"START RequestId: {record['requestId']} Version: $LATEST" in log
    assert [re.sub(r"line \d+", "line N", frame).split("\n")[0] for frame in record["stackTrace"]] \
        == [f'  File "{sandbox.folder}/functions/{function_name(sandbox, "hello")}/handler.py", '
            f"line N, in {name}" for name in ("handler", "fail")]
    assert "raise ValueError(message)" in record["stackTrace"][-1]
    text = log[log.index("[ERROR] ValueError: no luck"):]
    assert text.splitlines()[1:6:2] == ["Traceback (most recent call last):",
                                        "    fail(query[\"raise\"])",
                                        "    raise ValueError(message)"]
    assert log.index("[ERROR] ValueError") < log.index(f"END RequestId: {record['requestId']}")


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """``hello`` without its handler, on a route anyone may call; a trigger that cannot be
    imported."""
    public = change(ROUTE, lambda name, i: {
        k: v for k, v in {**i, "authorizationType": "NONE"}.items()
        if k not in ("authorizerId", "authorizationScopes")} if i["routeKey"] == "GET /AdminUser"
        else i)
    edit = combined(function_code("hello", {"handler.py": "def other(event, context):\n    pass\n"}),
                function_code(TRIGGER, {"handler.py": "import scope_rules\n\n"
                                                      "def handler(event, context):\n"
                                                      "    return event\n"}),
                public)
    with started(blog_config(), tmp_path_factory.mktemp("broken"), edit=edit) as running:
        running.init_logs = {name: log_of(running, name) for name in ("hello", TRIGGER)}
        yield running


def test_a_handler_missing_from_its_module_is_logged_at_init_and_at_each_call(broken):
    message = "Handler 'handler' missing on module 'handler'"
    (at_init,) = error_records(broken.init_logs["hello"])
    assert (at_init["errorType"], at_init["errorMessage"]) == ("Runtime.HandlerNotFound", message)
    assert at_init["stackTrace"] == [] and at_init["requestId"] == ""
    assert f"[ERROR] Runtime.HandlerNotFound: {message}\nTraceback (most recent call last):" \
        in broken.init_logs["hello"]
    answer = call(broken.outputs["route_urls"]["GET /AdminUser"])
    assert (answer.status, answer.body) == (500, b'{"message":"Internal Server Error"}')
    log = log_of(broken, "hello")
    _, invoked = error_records(log)
    assert (invoked["errorType"], invoked["errorMessage"]) == ("Runtime.HandlerNotFound", message)
    assert f"START RequestId: {invoked['requestId']} Version: $LATEST" in log
    assert log.count(f"[ERROR] Runtime.HandlerNotFound: {message}") == 2


def test_an_import_error_is_logged_at_init_and_at_each_invocation(broken):
    message = "Unable to import module 'handler': No module named 'scope_rules'"
    (at_init,) = error_records(broken.init_logs[TRIGGER])
    assert (at_init["errorType"], at_init["errorMessage"]) == ("Runtime.ImportModuleError", message)
    assert f"[ERROR] Runtime.ImportModuleError: {message}" in broken.init_logs[TRIGGER]
    with pytest.raises(ClientError) as refused:
        sign_in(broken, "adminuser")
    assert refused.value.response["Error"]["Code"] == "UserLambdaValidationException"
    records = error_records(log_of(broken, TRIGGER))
    assert len(records) == 2 and records[1]["errorMessage"] == message
    assert records[1]["requestId"]
