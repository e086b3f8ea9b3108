#!/usr/bin/env bash
# Run the fast tests against the LOWEST dependency versions that pyproject.toml
# declares (scikit-learn, skorch, numpy, pandas; torch stays at the local CPU
# wheel pinned in constraints.txt):
#
#     bash scripts/test_lower.sh [pytest args...]
#     # default: -q -n 2 -m "not slow" --architectures shared_bottom,mmoe
#     bash scripts/test_lower.sh --prepare   # only create/update the venv, run nothing
#     # (.ci/run prepares it in the background while the main venv is set up)
#
# Uses a second virtualenv, LOWER_VENV_DIR (default .venv-lower, relative paths
# are relative to the repository root), with skmtl installed in editable mode
# with the `tests` extra under `-c constraints.txt -c constraints-lower.txt
# -c constraints-lower-lock.txt` (the last pins the test tools to versions that passed,
# so that a new release of one cannot break this stage; see that file's header).
# Before installing it checks that every pin in constraints-lower.txt equals the
# `>=` bound of the same package in pyproject.toml.
#
# Idempotent like scripts/setup.sh: a stamp file records the hash of
# pyproject.toml, both constraint files and the checkout's path; when it matches,
# no pip call is made.
#   SKMTL_SETUP_FORCE=1  ignore the stamp and re-run the pip install
#   PYTHON               interpreter used to create the venv (default: python3)
set -euo pipefail

REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

TORCH_VERSION="2.13.0"
LOWER="constraints-lower.txt"
LOCK="constraints-lower-lock.txt"
VENV_DIR="${LOWER_VENV_DIR:-.venv-lower}"
PYTHON="${PYTHON:-python3}"
case "$VENV_DIR" in
    /*) ;;
    *) VENV_DIR="$REPO_ROOT/$VENV_DIR" ;;
esac
VPY="$VENV_DIR/bin/python"
PIP=("$VPY" -m pip --disable-pip-version-check)
PIP_INSTALL_OPTS=(-q)
if [[ -d /opt/wheels ]]; then  # the local torch CPU wheel (see scripts/setup.sh)
    PIP_INSTALL_OPTS+=(--find-links /opt/wheels)
fi

log() { printf '[test_lower] %s\n' "$*"; }

prepare_only=0
if [[ "${1:-}" == "--prepare" ]]; then
    prepare_only=1
    shift
fi

pip_install() {  # as in scripts/setup.sh: drop the harmless find-links warnings
    { "${PIP[@]}" install "${PIP_INSTALL_OPTS[@]}" "$@" 2>&1 1>&3 3>&- \
        | { grep -v "is ignored: it is neither a file nor a directory" || true; } >&2; } 3>&1
}

# 0. the pins must be pyproject's lower bounds ----------------------------------
"$PYTHON" - "$LOWER" <<'PY'
import re
import sys

try:
    import tomllib
except ModuleNotFoundError:  # python < 3.11
    print("[test_lower] warning: no tomllib, lower bounds not checked against pyproject.toml")
    sys.exit(0)


def norm(version):  # "1.6" == "1.6.0"
    parts = version.split(".")
    while len(parts) > 1 and parts[-1] == "0":
        parts.pop()
    return ".".join(parts)


with open("pyproject.toml", "rb") as f:
    deps = tomllib.load(f)["project"]["dependencies"]
bounds = {}
for dep in deps:
    m = re.match(r"^\s*([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)", dep)
    if m:
        bounds[m.group(1).lower().replace("_", "-")] = m.group(2)
pins = {}
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if line:
        name, _, version = line.partition("==")
        pins[name.strip().lower().replace("_", "-")] = version.strip()
errors = []
for name in ("scikit-learn", "skorch", "numpy", "pandas"):
    if name not in pins:
        errors.append(f"{name} is not pinned in {sys.argv[1]}")
    elif name not in bounds or norm(bounds[name]) != norm(pins[name]):
        errors.append(f"{name}: pyproject.toml says >={bounds.get(name)}, "
                      f"{sys.argv[1]} pins =={pins[name]}")
if errors:
    sys.exit("[test_lower] ERROR: lower bounds out of sync:\n  " + "\n  ".join(errors))
PY

# 1. virtualenv + torch (local CPU wheel) --------------------------------------
if [[ ! -x "$VPY" ]]; then
    log "creating virtualenv in $VENV_DIR"
    "$PYTHON" -m venv "$VENV_DIR"
fi
installed_torch="$("$VPY" -c 'from importlib import metadata as m
try: print(m.version("torch"))
except m.PackageNotFoundError: print("")')"
if [[ "${installed_torch%%+*}" != "$TORCH_VERSION" ]]; then
    log "installing torch==$TORCH_VERSION (found: ${installed_torch:-none})"
    pip_install "torch==$TORCH_VERSION"
fi

# 2. skmtl[tests] at the lower bounds (stamped) ---------------------------------
stamp="$VENV_DIR/.skmtl-lower-stamp"
want_hash="$( { cat pyproject.toml constraints.txt "$LOWER" "$LOCK"; echo "$REPO_ROOT"; } | sha256sum | cut -d' ' -f1)"
if [[ "${SKMTL_SETUP_FORCE:-0}" == "1" || ! -f "$stamp" || "$(cat "$stamp")" != "$want_hash" ]]; then
    log "pip install -e \".[tests]\" (constraints: constraints.txt $LOWER $LOCK)"
    # one retry: a registry hiccup should not fail the stage (pip's error is printed)
    if ! pip_install -c constraints.txt -c "$LOWER" -c "$LOCK" -e ".[tests]"; then
        log "pip install failed; retrying once in 20 s"
        sleep 20
        pip_install -c constraints.txt -c "$LOWER" -c "$LOCK" -e ".[tests]"
    fi
    printf '%s\n' "$want_hash" > "$stamp"
fi

"$VPY" - "$LOWER" <<'PY'
import sys
from importlib import metadata

names = ["torch", "scikit-learn", "skorch", "numpy", "pandas", "scipy", "torchjd"]
have = {n: metadata.version(n) for n in names}
pins = {}
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if line:
        name, _, version = line.partition("==")
        pins[name.strip()] = version.strip()
wrong = [f"{n} {have[n]} (pinned {v})" for n, v in pins.items() if have.get(n) != v]
if wrong:
    sys.exit("[test_lower] ERROR: installed versions differ from the pins: " + ", ".join(wrong))
print("[test_lower] ok: python " + sys.version.split()[0] + ", "
      + ", ".join(f"{n} {v}" for n, v in have.items()))
PY

if [[ "$prepare_only" == "1" ]]; then
    exit 0
fi

# 3. the fast tests, one thread per xdist worker (as scripts/test.sh) ------------
#    What this stage checks is the dependencies at their lowest versions; torch is the
#    same wheel as in .venv, so tests repeated for each architecture (torch modules) run
#    for two of them, shared_bottom and mmoe (tests/conftest.py, --architectures), and
#    the property tests draw 200 of the 600 derandomized examples (profile "lower").
if [[ $# -eq 0 ]]; then
    set -- -q -n 2 -m "not slow" --architectures shared_bottom,mmoe
fi
export SKMTL_HYPOTHESIS_PROFILE="${SKMTL_HYPOTHESIS_PROFILE:-lower}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
exec "$VPY" -m pytest "$@"
