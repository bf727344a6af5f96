#!/usr/bin/env bash
# Run a stack (default: dev) on this machine: `jwt-scoped sandbox --stack <stack>` in the
# project's virtualenv, set up from the requirements files first (as scripts/test.sh does, and
# only when they changed). Needs no AWS account, no Pulumi CLI and no network beyond 127.0.0.1
# (and the package index for the setup). Extra arguments go to `jwt-scoped sandbox` (e.g.
# --verify, --port 9000). Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${1:-dev}"
shift $(( $# > 0 ? 1 : 0 ))
source scripts/venv.sh  # the virtualenv scripts/test.sh uses, made the same way (PYTHON, VENV)
exec "$venv/bin/jwt-scoped" sandbox --stack "$stack" "$@"
