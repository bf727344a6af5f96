"""``python -m access plan|verify``: who can call what, before and after deploying.

Exit codes: 0 success; 1 ``verify`` found a cell that does not match; 2 the command could not do
its job (bad arguments, an invalid or unreadable config, missing outputs, a user who cannot sign
in, an unreachable endpoint). Errors are one message on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from program.config import ConfigError

from . import render
from .diff import diff_plans
from .matrix import build_matrix
from .stackfile import ROOT, StackFileError, functions_named, load_settings, stack_file


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected more than 0, got {value}")
    return value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m access",
        description="Who can call what: the expected access of a stack config (plan) and a live "
                    "check of the deployed API against it (verify).")
    commands = top.add_subparsers(dest="command", required=True)

    def config_source(p: argparse.ArgumentParser) -> None:
        source = p.add_mutually_exclusive_group(required=True)
        source.add_argument("--stack", help="stack name: reads Pulumi.<stack>.yaml in the project")
        source.add_argument("--config", type=Path, help="any stack config file")

    plan = commands.add_parser(
        "plan", help="the expected access matrix of a stack config (offline)",
        description="Print who can call which route, per the config; no AWS, no Pulumi CLI.")
    config_source(plan)
    plan.add_argument("--format", choices=render.FORMATS, default="table")
    plan.add_argument("--against", type=Path, metavar="FILE",
                      help="another config (e.g. the base branch's): print only what changes")

    verify = commands.add_parser(
        "verify", help="check the deployed API answers every (caller, route) as planned",
        description="Sign in each test user, call every route, compare with the plan.")
    config_source(verify)
    verify.add_argument("--outputs", type=Path, metavar="FILE",
                        help="the output of `pulumi stack output --json --show-secrets` "
                             "(default: run that command, with --stack when given)")
    verify.add_argument("--attempts", type=_positive_int, default=5,
                        help="tries per request while the stage settles (default 5)")
    verify.add_argument("--backoff", type=_non_negative, default=1.0,
                        help="seconds before the first retry, doubling each time (default 1)")
    verify.add_argument("--timeout", type=_positive, default=10.0,
                        help="seconds to wait for each answer (default 10)")
    verify.add_argument("--format", choices=("table", "json"), default="table",
                        help="table (rows as they arrive) or json (one document at the end)")
    return top


def _config_path(args: argparse.Namespace) -> Path:
    if args.config is not None:
        return args.config
    try:
        return stack_file(args.stack)
    except StackFileError as error:
        raise CommandError(str(error)) from None


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the project when inside it."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


class CommandError(Exception):
    """Why the command could not do its job: printed as one line, exit 2."""


def _settings(path: Path, functions=None):
    try:
        return load_settings(path, functions=functions)
    except StackFileError as error:
        raise CommandError(str(error)) from None
    except ConfigError as error:  # the program's own message, with the file it came from
        raise CommandError(f"{_shown(path)}: {error}") from None


def plan(args: argparse.Namespace) -> int:
    path = _config_path(args)
    after = build_matrix(_settings(path))
    if args.against is None:
        sys.stdout.write(render.render_plan(after, _shown(path), args.format))
        return 0
    try:
        functions = functions_named(args.against)
    except StackFileError as error:
        raise CommandError(str(error)) from None
    before = build_matrix(_settings(args.against, functions))
    sys.stdout.write(render.render_diff(diff_plans(before, after), _shown(args.against),
                                        _shown(path), args.format))
    return 0


def verify(args: argparse.Namespace) -> int:
    from . import outputs  # boto3 and the network only for this command
    from . import verify as live
    from .probe import RetryPolicy, Unreachable
    from .signin import SignInError

    matrix = build_matrix(_settings(_config_path(args)))
    policy = RetryPolicy(attempts=args.attempts, backoff=args.backoff, timeout=args.timeout)
    try:
        raw = (outputs.read_outputs_file(args.outputs) if args.outputs is not None
               else outputs.run_pulumi(args.stack))
        return live.run(matrix, outputs.parse_outputs(raw), policy, fmt=args.format)
    except (outputs.OutputsError, live.VerifyError, SignInError, Unreachable) as error:
        raise CommandError(str(error)) from None


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return plan(args) if args.command == "plan" else verify(args)
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
