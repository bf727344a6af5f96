# Sourced by scripts/test.sh and scripts/sandbox.sh (from the repository root): the virtualenv
# both use, made the same way. It checks the interpreter first (Python 3.11+), then creates VENV,
# reuses it if this interpreter made it, or rebuilds it, and installs requirements-dev.txt unless
# it already did so from the same requirements.
# Sets $venv. With check_only set, it only says what it would do, and exits.
#
#   PYTHON  the interpreter that makes the virtualenv (default python3), e.g. PYTHON=python3.12
#   VENV    the virtualenv's folder (default .venv). One that another interpreter (or another
#           version) made is rebuilt, not reused.
venv="${VENV:-.venv}"
python="${PYTHON:-python3}"
minimum=(3 11)  # pyproject.toml: target-version = "py311"
script="scripts/$(basename "$0")"
hint="pick another with PYTHON, e.g. PYTHON=python3.12 bash $script"

fail() {
  echo "$script: $*" >&2
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

if [ -n "${check_only:-}" ]; then
  echo "python: '$python' is Python $version ($executable)"
  echo "venv: $venv: $action"
  exit 0
fi

case "$action" in
  create) "$python" -m venv "$venv" ;;
  rebuild*)
    echo "$script: $venv: $action; rebuilding it with Python $version ($executable)" >&2
    "$python" -m venv --clear "$venv" ;;
esac

# 3. The install, skipped when nothing it reads changed since it last succeeded here.
inputs=(requirements-dev.txt requirements.txt pyproject.toml policy/requirements.txt)
stamp="$venv/.installed-from"
wanted="$(cat "${inputs[@]}" | { sha256sum 2>/dev/null || shasum -a 256; } | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "$script: installing requirements-dev.txt into $venv (a few minutes on a new machine;"\
       "skipped next time unless ${inputs[*]} change)" >&2
  rm -f "$stamp"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  echo "$wanted" > "$stamp"
fi
