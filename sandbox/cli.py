"""``python -m sandbox --stack NAME | --config FILE [--port N] [--outputs FILE] [--verify]``.

Exit codes: 0 stopped cleanly (Ctrl-C), or ``--verify`` found every cell as planned; 1
``--verify`` found a mismatch; 2 nothing could start (unknown stack, unreadable stack file, a
config the program refuses, the port in use), or ``--verify`` could not run.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from access.stackfile import ROOT, StackFileError, read_stack_config, stack_file

DEFAULT_PORT = 8080
STATE_DIR = Path(".sandbox")
DEFAULT_OUTPUTS = STATE_DIR / "outputs.json"
DEFAULT_LOGS = STATE_DIR / "logs"
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"
# What `--verify` removes from the environment of `access verify`: no AWS credentials, no other
# endpoint or profile; Cognito is reached through ENDPOINT_VARIABLE only.
AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE",
                 "AWS_SHARED_CREDENTIALS_FILE", ENDPOINT_VARIABLE)


class CliError(Exception):
    """One line for the user; exit 2."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Run the stack locally: the program's own resources, with Cognito in moto, "
                    "the functions from their archives and a local API Gateway, on 127.0.0.1.")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", help="stack name: serves Pulumi.<stack>.yaml")
    source.add_argument("--config", type=Path, help="any stack config file")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"the API's port on 127.0.0.1 (default {DEFAULT_PORT}; 0: any free one)")
    p.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS,
                   help=f"where to write the stack outputs (default {DEFAULT_OUTPUTS})")
    p.add_argument("--logs", type=Path, default=DEFAULT_LOGS,
                   help=f"folder for each function's log (default {DEFAULT_LOGS})")
    p.add_argument("--access-log", metavar="FILE",
                   help="where the API's access log goes: a file, or - for the terminal "
                        "(default: the terminal; with --verify, <logs>/access.log)")
    p.add_argument("--verify", action="store_true",
                   help="run `python -m access verify` against the sandbox, print its matrix, "
                        "stop, and exit with its status")
    return p


def config_path(args: argparse.Namespace) -> Path:
    """The stack file, found as ``python -m access`` finds it (an unknown stack lists those
    there are; the project file is refused when it is read)."""
    if args.config is not None:
        return args.config
    try:
        return stack_file(args.stack)
    except StackFileError as error:
        raise CliError(str(error)) from None


def stack_name(args: argparse.Namespace, path: Path) -> str:
    """The stack the program sees (``pulumi.get_stack()``): the one asked for, else the file's."""
    if args.stack:
        return args.stack.rsplit("/", 1)[-1]
    name = path.name
    if name.startswith("Pulumi.") and name.endswith(".yaml") and name.count(".") >= 2:
        return name[len("Pulumi."):-len(".yaml")]
    return "sandbox"


def stack_config(path: Path) -> dict:
    """The stack file's config, keyed as Pulumi keys it (``jwt-scoped-api:routes``), values
    as the program receives them."""
    try:
        config = read_stack_config(path)
    except StackFileError as error:
        raise CliError(str(error)) from None
    return dict(config.values)


def shown(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def verify_environment(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in AWS_VARIABLES}
    env.update({ENDPOINT_VARIABLE: endpoint, "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    return env


def run_verify(path: Path, outputs: Path, endpoint: str) -> int:
    """``python -m access verify`` against the sandbox; its output goes straight through.
    One attempt per cell: a local stage needs no time to settle."""
    command = [sys.executable, "-m", "access", "verify", "--config", str(Path(path).resolve()),
               "--outputs", str(Path(outputs).resolve()), "--attempts", "1"]
    return subprocess.run(command, cwd=ROOT, env=verify_environment(endpoint),  # noqa: S603
                          check=False).returncode


def token_command(outputs: Path) -> str:
    """The command behind the printed ``token`` helper, runnable from this folder."""
    python = Path(sys.executable)
    with_venv = shown(python) if python.is_relative_to(Path.cwd()) else str(python)
    in_root = "" if Path.cwd().resolve() == ROOT else f"PYTHONPATH={ROOT} "
    return f"{in_root}{with_venv} -m sandbox.token --outputs {shown(outputs)}"


def wait_for_stop() -> None:
    """Until Ctrl-C (SIGINT) or SIGTERM. Both are handled here, so a sandbox started in the
    background, where the shell ignores SIGINT, still stops on ``kill -INT``."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(0.1):
        pass


def main(argv: list[str] | None = None, started: float | None = None) -> int:
    """``started``: when the command started (``time.perf_counter()``), for the startup time
    the banner reports; default: now."""
    from .app import ProgramError, Sandbox, SandboxError

    started = time.perf_counter() if started is None else started
    args = parser().parse_args(argv)
    try:
        path = config_path(args)
        config = stack_config(path)
    except CliError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.access_log in (None, "-"):
        access_log = args.logs / "access.log" if args.verify and args.access_log is None \
            else sys.stdout
    else:
        access_log = Path(args.access_log)
    sandbox = Sandbox(config, stack=stack_name(args, path), port=args.port, logs_dir=args.logs,
                      access_log=access_log)
    serving = False
    try:
        try:
            sandbox.start()
        except ProgramError as error:
            print(f"error: {shown(path)}: {error}", file=sys.stderr)
            return 2
        except SandboxError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        sandbox.write_outputs(args.outputs)
        for warning in sandbox.warnings():
            print(f"warning: {warning}", file=sys.stderr)
        seconds = time.perf_counter() - started
        if args.verify:
            print(f"Sandbox of {shown(path)} serving at {sandbox.api_url} after {seconds:.2f} s; "
                  "running access verify against it:", flush=True)
            return run_verify(path, args.outputs, sandbox.cognito_endpoint)
        serving = True
        print(_banner(sandbox, path, args, access_log, seconds), flush=True)
        wait_for_stop()
        print("Stopping ...", flush=True)
        return 0
    except KeyboardInterrupt:
        if serving:  # Ctrl-C while the banner was printing: the normal way to stop
            return 0
        print("Interrupted before serving; stopping ...", file=sys.stderr, flush=True)
        return 130
    finally:
        sandbox.stop()
        if not args.verify and sandbox.startup_seconds is not None:
            print("Stopped: the port is free and every worker has exited.", flush=True)


def _banner(sandbox, path: Path, args: argparse.Namespace, access_log, seconds: float) -> str:
    from access.matrix import build_matrix
    from access.stackfile import load_settings

    from .banner import banner

    return banner(
        source=shown(path), stack=sandbox.stack, resources=len(sandbox.run.registered),
        seconds=seconds, outputs=sandbox.outputs,
        api_urls={api_id: server.url for api_id, server in sandbox.servers.items()},
        outputs_file=shown(args.outputs), logs_dir=shown(args.logs),
        access_log="below" if access_log is sys.stdout else shown(access_log),
        token_command=token_command(args.outputs), matrix=build_matrix(load_settings(path)))
