#!/usr/bin/env bash
# Set up a virtualenv from the requirements files and run every check: ruff, the offline checks of
# .github/workflows (check-jsonschema, zizmor), then pytest (extra arguments go to pytest).
# Works on a fresh machine with Python 3.11+; needs no AWS account, no Pulumi CLI, no network
# beyond the package index.
#
#   PYTHON  the interpreter that makes the virtualenv (default python3), e.g. PYTHON=python3.12
#   VENV    the virtualenv's folder (default .venv). One that another interpreter (or another
#           version) made is rebuilt, not reused.
#   bash scripts/test.sh --check-python   only check PYTHON and say what would happen to VENV
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-.venv}"
python="${PYTHON:-python3}"
minimum=(3 11)  # pyproject.toml: target-version = "py311"
hint="pick another with PYTHON, e.g. PYTHON=python3.12 bash scripts/test.sh"

fail() {
  echo "scripts/test.sh: $*" >&2
  exit 2
}

# One tab-separated line from any Python (2.7 too): version, installation (the base prefix, the
# same for a virtualenv and the interpreter that made it), executable.
probe='import os, sys
sys.stdout.write("%d.%d.%d\t%s\t%s\n" % (sys.version_info[0], sys.version_info[1],
                 sys.version_info[2], os.path.realpath(getattr(sys, "base_prefix", sys.prefix)),
                 sys.executable))'

# 1. The interpreter: found, runs, new enough. Nothing is created before this passes.
command -v "$python" >/dev/null 2>&1 || fail "no Python interpreter '$python' on PATH; $hint"
identity="$("$python" -c "$probe" 2>/dev/null)" || fail "'$python' fails to run (try: $python --version); $hint"
IFS=$'\t' read -r version base executable <<<"$identity"
IFS=. read -r major minor _ <<<"$version"
if (( major < minimum[0] || (major == minimum[0] && minor < minimum[1]) )); then
  fail "needs Python ${minimum[0]}.${minimum[1]}+, but '$python' is Python $version ($executable); $hint"
fi

# 2. The virtualenv: create it, reuse it if this interpreter made it, else rebuild it.
if [ ! -e "$venv" ]; then
  action="create"
elif [ ! -f "$venv/pyvenv.cfg" ]; then
  fail "VENV=$venv exists but is not a virtualenv (no pyvenv.cfg): remove it or pick another VENV"
else
  made_by="$("$venv/bin/python" -c "$probe" 2>/dev/null)" || made_by=""
  IFS=$'\t' read -r venv_version venv_base _ <<<"${made_by:-?	?	?}"
  if [ "$venv_version" = "$version" ] && [ "$venv_base" = "$base" ]; then
    action="reuse"
  elif [ -z "$made_by" ]; then
    action="rebuild (its interpreter no longer runs)"
  else
    action="rebuild (made by Python $venv_version in $venv_base)"
  fi
fi

if [ "${1:-}" = "--check-python" ]; then
  echo "python: '$python' is Python $version ($executable)"
  echo "venv: $venv: $action"
  exit 0
fi

case "$action" in
  create) "$python" -m venv "$venv" ;;
  rebuild*)
    echo "scripts/test.sh: $venv: $action; rebuilding it with Python $version ($executable)" >&2
    "$python" -m venv --clear "$venv" ;;
esac

"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
"$venv/bin/python" -m ruff check .
"$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml
"$venv/bin/zizmor" --offline .github/workflows
"$venv/bin/python" -m pytest "$@"
