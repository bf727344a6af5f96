"""``jwt-scoped``: the tools that travel with the components, for any Pulumi Python program that
uses them (``pip install "jwt-scoped[sandbox]"``). Run in the program's folder, or pass ``--cwd``:

    jwt-scoped plan    --stack dev [--format table|markdown|json] [--against FILE]
    jwt-scoped verify  --stack dev [--state FILE]
    jwt-scoped sandbox --stack dev [--port N] [--verify]
    jwt-scoped token   USER [--stack dev] [--port N | --state FILE]

Exit codes: 0 success; 1 ``verify`` found a mismatch; 2 the command could not do its job (one
message on stderr: a line, or the program's own list of what is wrong with a config; never a
traceback); 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import time

STARTED = time.perf_counter()  # the sandbox's startup time counts the imports


def parser() -> argparse.ArgumentParser:
    from .access import commands as access_commands
    from .sandbox import cli as sandbox_cli

    top = argparse.ArgumentParser(
        prog="jwt-scoped",
        description="Who can call what, and the whole system on this machine, for a Pulumi "
                    "program built with the jwt-scoped components.")
    commands = top.add_subparsers(dest="command", required=True)
    access_commands.add_parsers(commands)
    sandbox_cli.add_parsers(commands)
    return top


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C before a command took over the signal (while importing)
        print("Interrupted; stopped.", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    try:
        args = parser().parse_args(argv)
    except ModuleNotFoundError as error:  # the tools' own dependencies are an extra
        print(f"error: {error.name} is not installed: the jwt-scoped command needs "
              '`pip install "jwt-scoped[sandbox]"`', file=sys.stderr)
        return 2
    from .access.commands import CommandError

    try:
        return args.run(args)
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
