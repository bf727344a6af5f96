#!/usr/bin/env bash
# Set up a virtualenv from the requirements files and run every check: ruff, the offline checks of
# .github/workflows (check-jsonschema, zizmor), then pytest (extra arguments go to pytest).
# Works on a fresh machine with Python 3.11+; needs no AWS account, no Pulumi CLI, no network
# beyond the package index.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-.venv}"
python="${PYTHON:-python3}"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
"$venv/bin/python" -m ruff check .
"$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml
"$venv/bin/zizmor" --offline .github/workflows
"$venv/bin/python" -m pytest "$@"
