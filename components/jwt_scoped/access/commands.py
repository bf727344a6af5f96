"""``jwt-scoped plan`` and ``jwt-scoped verify``: who can call what, before and after deploying.

Exit codes: 0 success; 1 ``verify`` found a cell that does not match; 2 the command could not do
its job (bad arguments, an unreadable stack file, a config the program refuses, a state that does
not match, a user who cannot sign in, an unreachable endpoint). Errors are one message on
stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from jwt_scoped.project import Project, ProjectError

from . import render
from .diff import diff_plans
from .matrix import build_matrix
from .model import resources_of_run, stack_model
from .plan import ProgramError, Stack, planned, run_stack
from .verify import SIGN_IN_METHODS


class CommandError(Exception):
    """Why the command could not do its job: printed as one line, exit 2."""


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


def stack_arguments(p: argparse.ArgumentParser) -> None:
    """``--stack NAME`` or ``--config FILE``, and ``--cwd``: which program and config."""
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", help="stack name: reads Pulumi.<stack>.yaml of the project")
    source.add_argument("--config", type=Path, help="any stack config file")
    p.add_argument("-C", "--cwd", type=Path, metavar="DIR",
                   help="the project folder (default: the folder of the nearest Pulumi.yaml "
                        "from the working directory up)")


def stack_of(args: argparse.Namespace) -> Stack:
    try:
        return Stack.of(Project.find(args.cwd), args.stack, args.config)
    except ProjectError as error:
        raise CommandError(str(error)) from None


def add_parsers(commands) -> None:
    plan = commands.add_parser(
        "plan", help="the expected access matrix of a stack (offline)",
        description="Print who can call which route: the program run with the stack's config "
                    "under Pulumi's mocks, its resources read back. No AWS, no Pulumi CLI.")
    stack_arguments(plan)
    plan.add_argument("--format", choices=render.FORMATS, default="table")
    plan.add_argument("--against", type=Path, metavar="FILE",
                      help="the plan to compare with: `plan --format json` output (e.g. of the "
                           "base branch), or another stack file for this program; prints only "
                           "what changes")
    plan.set_defaults(run=run_plan)

    verify = commands.add_parser(
        "verify", help="check the deployed API answers every (caller, route) as planned",
        description="Sign in each test user, call every route, compare with the plan.")
    stack_arguments(verify)
    verify.add_argument("--state", type=Path, metavar="FILE",
                        help="the deployed stack: the output of `pulumi stack export "
                             "--show-secrets`, or a sandbox's state file (default: run that "
                             "command, with --stack)")
    verify.add_argument("--attempts", type=_positive_int, default=5,
                        help="tries per request while the stage settles (default 5)")
    verify.add_argument("--backoff", type=_non_negative, default=1.0,
                        help="seconds before the first retry, doubling each time (default 1)")
    verify.add_argument("--timeout", type=_positive, default=10.0,
                        help="seconds to wait for each answer (default 10)")
    verify.add_argument("--sign-in", choices=SIGN_IN_METHODS, default="password",
                        help="how test users sign in: password (InitiateAuth with "
                        "USER_PASSWORD_AUTH) or code (the hosted UI's code grant with PKCE, as a "
                        "browser signs in); default password")
    verify.add_argument("--format", choices=("table", "json"), default="table",
                        help="table (rows as they arrive) or json (one document at the end)")
    verify.set_defaults(run=run_verify)


def _planned(stack: Stack):
    try:
        return planned(stack)
    except ProjectError as error:
        raise CommandError(str(error)) from None
    except ProgramError as error:  # the program's own message, with the file it came from
        raise CommandError(f"{stack.shown}: {error}") from None


def _against(stack: Stack, path: Path):
    """The matrix to compare with: a plan's JSON, or this program run with another stack file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if render.is_plan_json(document):
        try:
            return render.matrix_from_json(document)
        except render.PlanJsonError as error:
            raise CommandError(f"{path}: {error}") from None
    if isinstance(document, dict) and "config" not in document:
        raise CommandError(f"{path}: neither a plan (the output of `jwt-scoped plan --format json`)"
                           " nor a stack file")
    other = Stack(stack.project, path, stack.name)
    try:
        run = run_stack(other)
    except ProjectError as error:
        raise CommandError(str(error)) from None
    except ProgramError as error:
        raise CommandError(f"{other.shown}: {error}") from None
    return build_matrix(stack_model(resources_of_run(run.registered)))


def run_plan(args: argparse.Namespace) -> int:
    stack = stack_of(args)
    _, after = _planned(stack)
    if args.against is None:
        sys.stdout.write(render.render_plan(after, stack.shown, args.format))
        return 0
    before = _against(stack, args.against)
    sys.stdout.write(render.render_diff(diff_plans(before, after), str(args.against), stack.shown,
                                        args.format))
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from . import state
    from . import verify as live
    from .probe import RetryPolicy, Unreachable
    from .signin import SignInError

    stack = stack_of(args)
    _, matrix = _planned(stack)
    policy = RetryPolicy(attempts=args.attempts, backoff=args.backoff, timeout=args.timeout)
    try:
        if args.state is not None:
            document, where = state.read_state_file(args.state), str(args.state)
        else:
            document, where = state.run_pulumi(args.stack, stack.project.root), "the stack's state"
        return live.run(matrix, state.live_model(document, where), policy, fmt=args.format,
                        sign_in_method=args.sign_in)
    except (state.StateError, live.VerifyError, SignInError, Unreachable) as error:
        raise CommandError(str(error)) from None
