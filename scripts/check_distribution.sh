#!/usr/bin/env bash
# The components as an outside program gets them: build the jwt-scoped wheel, install it with its
# `sandbox` extra (and nothing else) into a fresh virtualenv, copy examples/python outside the
# repository, and run `jwt-scoped plan` and `jwt-scoped sandbox --verify` there. Needs the
# package index (the wheel's dependencies are installed from it), no AWS, no Pulumi CLI.
# tests/test_distribution.py checks the same in the test environment; CI (.ci/run) runs this.
#
#   PYTHON  the interpreter that makes the virtualenv (default python3)
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "check_distribution: a fresh virtualenv in $work, the wheel and its sandbox extra ..."
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
"$work/venv/bin/python" -m pip wheel --quiet --no-deps --wheel-dir "$work/wheel" .
wheel="$(ls "$work"/wheel/jwt_scoped-*.whl)"
"$work/venv/bin/python" -m pip install --quiet "${wheel}[sandbox]"
cp -r examples/python "$work/program"
cd "$work/program"
echo "check_distribution: jwt-scoped plan --stack dev, outside the repository"
"$work/venv/bin/jwt-scoped" plan --stack dev
echo "check_distribution: jwt-scoped sandbox --stack dev --verify, outside the repository"
"$work/venv/bin/jwt-scoped" sandbox --stack dev --port 0 --verify
