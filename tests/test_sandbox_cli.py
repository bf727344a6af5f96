"""``jwt-scoped sandbox`` as a user runs it, in a copy of this repository's program (its own
project folder, so its ``.sandbox/`` is the test's): the blog's whole test with ``--verify``; a
bad config, an unknown stack and a port in use stop it before anything starts; Ctrl-C stops it
cleanly after the banner (no worker left, ports free, no stale outputs) and during startup;
two sandboxes of one stack run side by side; the printed ``token`` helper works from any folder;
what a killed sandbox left is cleared by the next."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from jwt_scoped.cli import main
from jwt_scoped.sandbox.app import OUTPUTS_FILE, PID_FILE, STATE_FILE

from fixtures.stacks import NS, ROOT, blog_config, program_copy
from sandbox_harness import AWS_VARIABLES, call


@pytest.fixture
def project(tmp_path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    program_copy(folder)
    (folder / "Pulumi.dev.yaml").write_text((ROOT / "Pulumi.dev.yaml").read_text())
    return folder


def sandbox_args(project: Path, *more: str) -> list[str]:
    return ["sandbox", "-C", str(project), *more]


def _threads() -> set[str]:
    """Running threads, but the Pulumi SDK's idle event-loop executor (``asyncio_N``)."""
    return {t.name for t in threading.enumerate() if not t.name.startswith("asyncio_")}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in AWS_VARIABLES}


def test_verify_runs_the_blogs_test_against_the_sandbox(project, capfd, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "must-not-be-used")
    port = _free_port()
    code = main(sandbox_args(project, "--stack", "dev", "--port", str(port), "--verify"))
    out = capfd.readouterr().out
    assert code == 0, out
    assert out.rstrip().endswith("All 12 cells match.")
    assert re.search(r"GET /AdminUser\s+regularuser\s+403\s+403\s+ok", out)
    folder = project / ".sandbox" / f"dev-{port}"
    log = (folder / "logs" / "access.log").read_text().splitlines()
    # Ten calls and two preflights (the browser app's CORS origin), each logged.
    assert len(log) == 12 and {json.loads(line)["status"] for line in log} == {"200", "204",
                                                                               "401", "403"}
    # Stopped: nothing stale is left for another tool to read, the logs stay.
    assert not any((folder / name).exists() for name in (OUTPUTS_FILE, STATE_FILE, PID_FILE))
    assert not (folder / "functions").exists()


def test_a_bad_config_prints_the_programs_error_and_starts_nothing(project, capsys):
    config = blog_config()
    config[f"{NS}:stageName"] = "not valid!"
    stack = project / "Pulumi.bad.yaml"
    stack.write_text(yaml.safe_dump({"config": config}))
    threads, port = _threads(), _free_port()
    code = main(sandbox_args(project, "--config", str(stack), "--port", str(port)))
    err = capsys.readouterr().err
    assert code == 2
    assert "invalid stack config (1 problem)" in err
    assert f"{NS}:stageName: stage name 'not valid!' is invalid" in err
    assert "Traceback" not in err
    assert not list((project / ".sandbox").glob(f"*/{OUTPUTS_FILE}"))
    assert _threads() <= threads and _port_free(port)  # no gateway, no moto, nothing left


def test_an_unknown_stack_lists_the_stacks_there_are(project, capsys):
    assert main(sandbox_args(project, "--stack", "nope")) == 2
    assert "no stack 'nope': there is no Pulumi.nope.yaml in" in capsys.readouterr().err
    assert main(sandbox_args(project, "--config", str(project / "Pulumi.yaml"))) == 2
    assert "this is the project file (it has runtime:), not a stack file" in capsys.readouterr().err


def test_a_port_in_use_is_named_and_nothing_starts(project, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        threads = _threads()
        code = main(sandbox_args(project, "--stack", "dev", "--port", str(port)))
    assert code == 2
    assert f"error: port {port} on 127.0.0.1 is in use" in capsys.readouterr().err
    assert _threads() <= threads and not (project / ".sandbox" / f"dev-{port}").exists()


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _start(project: Path, *more: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "jwt_scoped", *sandbox_args(project, "--stack", "dev", *more)],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=_clean_environment())


def _banner(process: subprocess.Popen) -> str:
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("Stop with Ctrl-C"):
            break
    return "".join(lines)


def test_ctrl_c_stops_cleanly_and_the_printed_helpers_work_from_any_folder(project, tmp_path):
    process = _start(project, "--port", "0")
    try:
        text = _banner(process)
        api = re.search(r"API\s+(http://127\.0\.0\.1:(\d+)/Test)", text)
        moto_port = int(re.search(r"Cognito\s+http://127\.0\.0\.1:(\d+)", text).group(1))
        assert api, text
        workers = _children(process.pid)
        assert len(workers) == 2  # the trigger and the one route function, warm
        state = project / ".sandbox" / f"dev-{api.group(2)}" / STATE_FILE
        assert state.is_file()
        # The printed helper signs a user in from any folder, outside the project too.
        helper = re.search(r"token\(\) \{ (.+) \"\$1\"; \}", text).group(1)
        assert shlex.split(helper)[-2:] == ["--state", str(state)]
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        done = subprocess.run([*shlex.split(helper), "regularuser"], cwd=elsewhere,
                              capture_output=True, text=True, timeout=30,
                              env=_clean_environment())
        assert done.returncode == 0, done.stderr
        assert call(api.group(1) + "/RegularUser", token=done.stdout.strip()).status == 200
        assert re.search(r'curl -s -H "Authorization: \$adminuser" '
                         + re.escape(api.group(1)) + r"/AdminUser\s+# 200", text)
        assert re.search(r'curl -s -H "Authorization: \$regularuser" '
                         + re.escape(api.group(1)) + r"/AdminUser\s+# 403", text)
        assert re.search(r"curl -s " + re.escape(api.group(1)) + r"/AdminUser\s+# 401", text)
    finally:
        process.send_signal(signal.SIGINT)
        rest, errors = process.communicate(timeout=20)
    assert process.returncode == 0, errors
    assert "Stopped: the ports are free and every worker has exited." in rest
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    assert _port_free(int(api.group(2))) and _port_free(moto_port)
    assert not state.exists()


def test_ctrl_c_during_startup_stops_within_seconds(project):
    process = _start(project, "--port", "0")
    # Interrupted once it has taken its folder (it writes its pid there first), long before it
    # serves: a fixed sleep would race the interpreter's own start on a loaded machine.
    deadline = time.monotonic() + 20
    while not list((project / ".sandbox").glob("*/pid")) and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert time.monotonic() - started < 5
    assert process.returncode == 130, (out, err)
    assert re.search(r"^Interrupted.*; stopped\.$", err, re.M), err
    assert "Traceback" not in err
    assert not list((project / ".sandbox").glob(f"*/{OUTPUTS_FILE}"))


def test_two_sandboxes_of_one_stack_keep_to_their_own_folders(project):
    first = _start(project, "--port", "0")
    try:
        text = _banner(first)
        port = re.search(r"API\s+http://127\.0\.0\.1:(\d+)/Test", text).group(1)
        outputs = project / ".sandbox" / f"dev-{port}" / OUTPUTS_FILE
        before = outputs.read_text()
        second = subprocess.run(
            [sys.executable, "-m", "jwt_scoped",
             *sandbox_args(project, "--stack", "dev", "--port", "0", "--verify")],
            cwd=project, capture_output=True, text=True, timeout=60, env=_clean_environment())
        assert second.returncode == 0, second.stdout + second.stderr
        assert outputs.read_text() == before  # the running one's outputs are untouched
        assert call(f"http://127.0.0.1:{port}/Test/AdminUser").status == 401  # still serving
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=20)


def test_what_a_killed_sandbox_left_is_cleared_by_the_next(project, capsys):
    process = _start(project, "--port", "0")
    text = _banner(process)
    port = re.search(r"API\s+http://127\.0\.0\.1:(\d+)/Test", text).group(1)
    folder = project / ".sandbox" / f"dev-{port}"
    process.kill()
    process.wait(timeout=10)
    assert (folder / STATE_FILE).exists() and (folder / "functions").exists()  # kill -9 left them
    assert main(sandbox_args(project, "--stack", "dev", "--port", "0", "--verify")) == 0
    capsys.readouterr()
    assert not (folder / STATE_FILE).exists() and not (folder / "functions").exists()
