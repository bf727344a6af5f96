"""``python -m sandbox.token USER [--outputs FILE]``: sign a test user in to the sandbox's
Cognito and print the token the API takes (the ID token, or the access token with
``tokenUse: access``). The ``token USER`` helper the sandbox prints calls this.

It reads the sandbox's outputs file (``.sandbox/outputs.json`` by default) for the app client,
the user's password and the local Cognito endpoint, and signs in exactly as ``access verify``
does (``access.signin``: ``InitiateAuth`` with ``USER_PASSWORD_AUTH``, no AWS credentials).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from access.outputs import OutputsError, parse_outputs, read_outputs_file
from access.signin import SignInError, cognito_client, sign_in
from jwt_scoped.modes import TokenUse

from .cli import DEFAULT_OUTPUTS, ENDPOINT_VARIABLE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.token",
                                     description="Print a test user's token from the sandbox.")
    parser.add_argument("user")
    parser.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS,
                        help=f"the sandbox's outputs file (default {DEFAULT_OUTPUTS})")
    args = parser.parse_args(argv)
    try:
        raw = read_outputs_file(args.outputs)
        outputs = parse_outputs(raw)
        endpoint = (raw.get("sandbox") or {}).get("cognito_endpoint")
        if not endpoint:
            raise OutputsError(f"{args.outputs} has no sandbox.cognito_endpoint: is it a sandbox's?")
        if args.user not in outputs.passwords:
            raise SignInError(f"no test user {args.user!r}; the stack has: "
                              f"{', '.join(sorted(outputs.passwords)) or 'none'}")
        os.environ[ENDPOINT_VARIABLE] = endpoint
        client = cognito_client(outputs.user_pool_id, attempts=1, timeout=10)
        token = sign_in(client, outputs.app_client_id, args.user,
                        outputs.passwords[args.user])[TokenUse(outputs.token_use)]
    except (OutputsError, SignInError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
