"""``jwt-scoped sandbox`` and ``jwt-scoped token``: the stack on this machine, and a test user's
token from it.

``sandbox`` exit codes: 0 stopped cleanly (Ctrl-C or SIGTERM), or ``--verify`` found every cell
as planned; 1 ``--verify`` found a mismatch; 2 nothing could start (unknown stack, unreadable
stack file, a config the program refuses, the port in use), or ``--verify`` could not run; 130
interrupted before serving. Ctrl-C is heard at every moment: during startup it stops what has
started and exits within seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import signal
import sys
import threading
import time
from pathlib import Path

from jwt_scoped.access.commands import CommandError, stack_arguments, stack_of
from jwt_scoped.access.verify import SIGN_IN_METHODS
from jwt_scoped.project import Project, ProjectError

from .app import RUN_ROOT, STATE_FILE

DEFAULT_PORT = 8080
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STARTUP_GRACE_SECONDS = 1.0
"""How long an interrupted startup may take to reach its next step, where it stops."""


def add_parsers(commands) -> None:
    p = commands.add_parser(
        "sandbox", help="run the stack on this machine (no AWS, no Pulumi CLI)",
        description="Run the stack locally: the program's own resources, with Cognito in moto, "
                    "the functions from their archives and a local API Gateway, on 127.0.0.1.")
    stack_arguments(p)
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"the API's port on 127.0.0.1 (default {DEFAULT_PORT}; 0: any free one)")
    p.add_argument("--access-log", metavar="FILE",
                   help="where the API's access log goes: a file, or - for the terminal "
                        "(default: the terminal; with --verify, the sandbox's logs folder)")
    p.add_argument("--web", type=Path, metavar="DIR",
                   help="also serve a browser app's folder (examples/web) at the origin of the "
                        "app client's localhost callback URL, with config.json saying where the "
                        "hosted UI and the API are")
    p.add_argument("--verify", action="store_true",
                   help="run `jwt-scoped verify` against the sandbox, print its matrix, stop, "
                        "and exit with its status")
    p.add_argument("--sign-in", choices=SIGN_IN_METHODS, default="password",
                   help="with --verify: how test users sign in (password, or code: through the "
                        "hosted UI, as a browser does)")
    p.set_defaults(run=run_sandbox)

    token = commands.add_parser(
        "token", help="print a test user's token from a running sandbox",
        description="Sign a test user in to a running sandbox's Cognito and print the token "
                    "its API takes (the ID token, or the access token with tokenUse access).")
    token.add_argument("user")
    token.add_argument("--state", type=Path, metavar="FILE",
                       help="the sandbox's state file (default: the one running sandbox's, or "
                            "the one --stack and --port name)")
    token.add_argument("--stack", help="the stack of the running sandbox")
    token.add_argument("--port", type=int, help="the port of the running sandbox")
    token.add_argument("-C", "--cwd", type=Path, metavar="DIR", help="the project folder")
    token.set_defaults(run=run_token)


def shown(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def token_command(state: Path) -> str:
    """The command behind the printed ``token`` helper: runnable from any folder."""
    return shlex.join([sys.executable, "-m", "jwt_scoped", "token", "--state",
                       str(Path(state).resolve())])


class _Stop:
    """SIGINT and SIGTERM, heard at every moment; a sandbox started in the background, where
    the shell ignores SIGINT, still stops on ``kill -INT``."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous = {}

    def __enter__(self) -> _Stop:
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, lambda *_: self.event.set())
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


def _start(sandbox, stop: _Stop) -> BaseException | None:
    """Start ``sandbox`` in a thread of its own, so a signal is heard while it starts; ``None``
    once it serves, the error that stopped it, or ``KeyboardInterrupt`` when interrupted."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())  # the Pulumi SDK runs the program in one
        try:
            sandbox.start()
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 -- handed to the main thread
            outcome.append(error)

    thread = threading.Thread(target=run, name="sandbox-start", daemon=True)
    thread.start()
    while thread.is_alive() and not stop.event.wait(0.05):
        pass
    if thread.is_alive():  # interrupted: stop what has started; the start stops at its next step
        sandbox.stop()
        thread.join(STARTUP_GRACE_SECONDS)
        sandbox.stop()  # and whatever it started meanwhile
        return KeyboardInterrupt()
    return outcome[0] if outcome else RuntimeError("the sandbox did not start")


def run_sandbox(args: argparse.Namespace) -> int:
    from jwt_scoped.access import verify as live
    from jwt_scoped.access.plan import ProgramError
    from jwt_scoped.access.probe import RetryPolicy, Unreachable
    from jwt_scoped.access.signin import SignInError
    from jwt_scoped.cli import STARTED

    from .app import Sandbox, SandboxError
    from .banner import banner

    stack = stack_of(args)
    if args.access_log is None:
        access_log = None if args.verify else sys.stdout
    else:
        access_log = sys.stdout if args.access_log == "-" else Path(args.access_log)
    try:
        sandbox = Sandbox(stack, port=args.port, access_log=access_log, web=args.web)
    except ProjectError as error:
        raise CommandError(str(error)) from None
    with _Stop() as stop:
        failure = _start(sandbox, stop)
        if isinstance(failure, KeyboardInterrupt):
            print("Interrupted before serving; stopped.", file=sys.stderr, flush=True)
            return 130
        if failure is not None:
            sandbox.stop()
            if isinstance(failure, ProgramError):
                raise CommandError(f"{stack.shown}: {failure}")
            if isinstance(failure, (SandboxError, ProjectError)):
                raise CommandError(str(failure))
            raise failure
        try:
            for warning in sandbox.warnings():
                print(f"warning: {warning}", file=sys.stderr)
            seconds = time.perf_counter() - STARTED
            if args.verify:
                print(f"Sandbox of {stack.shown} serving at {sandbox.api_url} after "
                      f"{seconds:.2f} s; running jwt-scoped verify against it:", flush=True)
                try:
                    return live.run(sandbox.matrix, sandbox.model,
                                    RetryPolicy(attempts=1, backoff=0, timeout=10),
                                    sign_in_method=args.sign_in)
                except (live.VerifyError, SignInError, Unreachable) as error:
                    raise CommandError(str(error)) from None
            print(banner(sandbox, stack.shown, seconds,
                         access_log="below" if access_log is sys.stdout else
                         shown(access_log or sandbox.logs_dir / "access.log"),
                         token_command=token_command(sandbox.state_file)), flush=True)
            stop.event.wait()
            print("Stopping ...", flush=True)
            return 0
        finally:
            sandbox.stop()
            if not args.verify:
                print("Stopped: the ports are free and every worker has exited.", flush=True)


def state_of(args: argparse.Namespace) -> Path:
    """The state file ``token`` reads: the one given, the one the stack and port name, or the
    only running sandbox's."""
    if args.state is not None:
        return args.state
    try:
        root = Project.find(args.cwd).root / RUN_ROOT
    except ProjectError as error:
        raise CommandError(str(error)) from None
    if args.stack and args.port:
        return root / f"{args.stack}-{args.port}" / STATE_FILE
    found = sorted(p for p in root.glob(f"*/{STATE_FILE}")
                   if (not args.stack or p.parent.name.rsplit("-", 1)[0] == args.stack)
                   and (not args.port or p.parent.name.endswith(f"-{args.port}")))
    if len(found) != 1:
        running = ", ".join(p.parent.name for p in found) or "none"
        raise CommandError(f"which sandbox? running in {root}: {running}; pass --stack and "
                           "--port, or --state FILE")
    return found[0]


def run_token(args: argparse.Namespace) -> int:
    from jwt_scoped.access.signin import SignInError, cognito_client, sign_in
    from jwt_scoped.access.state import StateError, live_model, read_state_file, sandbox_endpoint

    path = state_of(args)
    try:
        model = live_model(read_state_file(path), str(path))
        endpoint = sandbox_endpoint(model)
        if not endpoint:
            raise StateError(f"{path} is not a sandbox's state: it names no local Cognito")
        found = [(pool, user, client) for pool in model.pools for user in pool.users
                 for client in pool.user_clients[:1] if user.username == args.user]
        if not found:
            users = sorted(u.username for pool in model.pools for u in pool.users)
            raise SignInError(f"no test user {args.user!r}; the stack has: "
                              f"{', '.join(users) or 'none'}")
        pool, user, client = found[0]
        tokens = sign_in(cognito_client(pool.id, attempts=1, timeout=10, endpoint=endpoint),
                         client.id, user.username, user.password or "")
    except (StateError, SignInError) as error:
        raise CommandError(str(error)) from None
    print(tokens[pool.token_use or "id"])
    return 0
