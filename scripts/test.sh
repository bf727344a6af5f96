#!/usr/bin/env bash
# Set up a virtualenv from the requirements files and run every check: ruff, the offline checks of
# .github/workflows (check-jsonschema, zizmor), then pytest on every core (extra arguments go to
# pytest).
# Works on a fresh machine with Python 3.11+; needs no AWS account, no Pulumi CLI, no network
# beyond the package index.
#
#   PYTHON  the interpreter that makes the virtualenv (default python3), e.g. PYTHON=python3.12
#   VENV    the virtualenv's folder (default .venv). One that another interpreter (or another
#           version) made is rebuilt, not reused.
#   bash scripts/test.sh --check-python   only check PYTHON and say what would happen to VENV
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--check-python" ] && check_only=1 && shift
source scripts/venv.sh  # checks PYTHON, makes or reuses VENV, installs requirements-dev.txt
"$venv/bin/python" -m ruff check .
"$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml
"$venv/bin/zizmor" --offline .github/workflows
"$venv/bin/python" -m pytest -n auto "$@"  # every core; `-n 0` after it runs one process
