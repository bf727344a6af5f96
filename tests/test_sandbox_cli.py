"""``python -m sandbox``: the blog's whole test with ``--verify``; a bad config, an unknown
stack and a port in use stop it before anything starts; Ctrl-C stops it cleanly (no worker left,
ports free) after printing the ``token`` helper and the curl lines."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import yaml

from fixtures.stacks import NS, blog_config
from jwt_scoped.sandbox.cli import main

from sandbox_harness import call

ROOT = Path(__file__).resolve().parent.parent


def _files(tmp_path) -> list[str]:
    return ["--outputs", str(tmp_path / "out.json"), "--logs", str(tmp_path / "logs")]


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


def test_verify_runs_the_blogs_test_against_the_sandbox(tmp_path, capfd, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "must-not-be-used")
    code = main(["--stack", "dev", "--port", "0", "--verify", *_files(tmp_path)])
    out = capfd.readouterr().out
    assert code == 0, out
    assert out.rstrip().endswith("All 10 cells match.")
    assert re.search(r"GET /AdminUser\s+regularuser\s+403\s+403\s+ok", out)
    outputs = json.loads((tmp_path / "out.json").read_text())
    assert outputs["sandbox"]["region"] == "us-east-1"
    assert outputs["sandbox"]["cognito_endpoint"].startswith("http://127.0.0.1:")
    log = (tmp_path / "logs" / "access.log").read_text().splitlines()
    assert len(log) == 10 and {json.loads(line)["status"] for line in log} == {"200", "401", "403"}


def test_a_bad_config_prints_the_programs_error_and_starts_nothing(tmp_path, capsys):
    config = blog_config()
    config[f"{NS}:stageName"] = "not valid!"
    stack = tmp_path / "Pulumi.bad.yaml"
    stack.write_text(yaml.safe_dump({"config": config}))
    threads, port = _threads(), _free_port()
    code = main(["--config", str(stack), "--port", str(port), *_files(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "invalid stack config (1 problem)" in err
    assert f"{NS}:stageName: stage name 'not valid!' is invalid" in err
    assert not (tmp_path / "out.json").exists()
    assert _threads() <= threads and _port_free(port)  # no gateway, no moto, nothing left


def test_an_unknown_stack_lists_the_stacks_there_are(tmp_path, capsys):
    assert main(["--stack", "nope", *_files(tmp_path)]) == 2
    assert "no stack 'nope': there is no Pulumi.nope.yaml in" in capsys.readouterr().err
    assert main(["--config", str(ROOT / "Pulumi.yaml"), *_files(tmp_path)]) == 2
    assert "this is the project file (it has runtime:), not a stack file" in capsys.readouterr().err


def test_a_port_in_use_is_named_and_nothing_starts(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        threads = _threads()
        code = main(["--stack", "dev", "--port", str(port), *_files(tmp_path)])
    assert code == 2
    assert f"error: port {port} on 127.0.0.1 is in use" in capsys.readouterr().err
    assert _threads() <= threads and not (tmp_path / "out.json").exists()


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


def test_ctrl_c_stops_cleanly_and_the_printed_helpers_work(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--stack", "dev", "--port", "0", *_files(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = []
        for line in process.stdout:
            banner.append(line)
            if line.startswith("Stop with Ctrl-C"):
                break
        text = "".join(banner)
        api = re.search(r"API\s+(http://127\.0\.0\.1:(\d+)/Test)", text)
        moto_port = int(re.search(r"Cognito\s+http://127\.0\.0\.1:(\d+)", text).group(1))
        assert api, text
        workers = _children(process.pid)
        assert len(workers) == 3  # the trigger and the two route functions, warm
        # The printed helper signs a user in; the curl lines carry the plan's statuses.
        helper = re.search(r"token\(\) \{ (.+) \"\$1\"; \}", text).group(1)
        assert helper.endswith(f"-m sandbox.token --outputs {tmp_path / 'out.json'}")
        assert re.search(r'curl -s -H "Authorization: \$adminuser" '
                         + re.escape(api.group(1)) + r"/AdminUser\s+# 200", text)
        assert re.search(r'curl -s -H "Authorization: \$regularuser" '
                         + re.escape(api.group(1)) + r"/AdminUser\s+# 403", text)
        assert re.search(r"curl -s " + re.escape(api.group(1)) + r"/AdminUser\s+# 401", text)
        assert call(api.group(1) + "/AdminUser").status == 401
    finally:
        process.send_signal(signal.SIGINT)
        rest, errors = process.communicate(timeout=20)
    assert process.returncode == 0, errors
    assert "Stopped: the port is free and every worker has exited." in rest
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    assert _port_free(int(api.group(2))) and _port_free(moto_port)
