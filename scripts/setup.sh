#!/usr/bin/env bash
# Create/refresh the project virtualenv and install skmtl in editable mode.
#
# Usage:  bash scripts/setup.sh                     # EXTRAS=tests (default)
#         EXTRAS=tests,benchmarks bash scripts/setup.sh
#         EXTRAS= bash scripts/setup.sh             # core dependencies only
#
# Environment variables:
#   EXTRAS    comma-separated optional-dependency groups (default: tests)
#   VENV_DIR  virtualenv location; relative paths are relative to the repo
#             root (default: .venv)
#   PYTHON    interpreter used to create the venv (default: python3)
#   SKMTL_SETUP_FORCE=1  ignore the stamp file and re-run the pip install
#
# torch is installed FIRST at exactly the version in constraints.txt (a local
# CPU wheel on our machines), and every later pip call uses
# `-c constraints.txt`, so pip never pulls a newer torch + CUDA wheels from PyPI.
#
# Idempotent: when torch is already at the pinned version and a stamp file
# records that the current pyproject.toml/constraints.txt were installed with
# the same extras, the script finishes in about a second.
set -euo pipefail

REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

TORCH_VERSION="2.13.0"
EXTRAS="${EXTRAS-tests}"
VENV_DIR="${VENV_DIR:-.venv}"
PYTHON="${PYTHON:-python3}"
case "$VENV_DIR" in
    /*) ;;
    *) VENV_DIR="$REPO_ROOT/$VENV_DIR" ;;
esac
VPY="$VENV_DIR/bin/python"
PIP=("$VPY" -m pip --disable-pip-version-check)
PIP_INSTALL_OPTS=(-q)

# This machine ships the torch CPU wheel in /opt/wheels (also configured via
# pip's find-links); pass it explicitly so an environment without that pip
# config still finds it.
if [[ -d /opt/wheels ]]; then
    PIP_INSTALL_OPTS+=(--find-links /opt/wheels)
fi

log() { printf '[setup] %s\n' "$*"; }

# `pip install -q ARGS...`, dropping the harmless "Location 'file:///...' is
# ignored" warnings that the machine-wide extra-index-url config produces.
pip_install() {
    { "${PIP[@]}" install "${PIP_INSTALL_OPTS[@]}" "$@" 2>&1 1>&3 3>&- \
        | { grep -v "is ignored: it is neither a file nor a directory" || true; } >&2; } 3>&1
}

# 1. virtualenv ---------------------------------------------------------------
if [[ ! -x "$VPY" ]]; then
    log "creating virtualenv in $VENV_DIR"
    "$PYTHON" -m venv "$VENV_DIR"
fi

# version of an installed distribution, or empty when missing (no imports: fast)
dist_version() {
    "$VPY" - "$1" <<'PY'
import sys
from importlib import metadata
try:
    print(metadata.version(sys.argv[1]))
except metadata.PackageNotFoundError:
    print("")
PY
}

# 2. torch first, pinned (CPU wheel) ---------------------------------------------
installed_torch="$(dist_version torch)"
if [[ "${installed_torch%%+*}" != "$TORCH_VERSION" ]]; then
    log "installing torch==$TORCH_VERSION (found: ${installed_torch:-none})"
    pip_install "torch==$TORCH_VERSION"
fi

# 3. editable install with extras, under constraints ---------------------------
# Normalise the extras list (sorted, de-duplicated) for the stamp key.
extras_key="$(printf '%s' "$EXTRAS" | tr ',' '\n' | sed 's/[[:space:]]//g' | sed '/^$/d' | sort -u | paste -sd, -)"
if [[ -n "$extras_key" ]]; then
    target=".[$extras_key]"
else
    target="."
fi
stamp="$VENV_DIR/.skmtl-setup-stamp-${extras_key:-core}"
# The stamp stores a hash of the files that define the install, so it also
# works after a fresh clone (where mtimes are meaningless).
want_hash="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"

# A stamp satisfies this request when it records the current hash and its
# extras are a superset of the requested ones (e.g. "benchmarks,tests"
# covers "tests").
stamp_covers() {  # stamp_covers STAMP_FILE
    local f="$1" have e
    [[ -f "$f" && "$(cat "$f")" == "$want_hash" ]] || return 1
    have=",${f##*/.skmtl-setup-stamp-},"
    for e in ${extras_key//,/ }; do
        [[ "$have" == *",$e,"* ]] || return 1
    done
    return 0
}

need_install=1
if [[ "${SKMTL_SETUP_FORCE:-0}" != "1" && -n "$(dist_version skmtl)" ]]; then
    for f in "$VENV_DIR"/.skmtl-setup-stamp-*; do
        if stamp_covers "$f"; then
            need_install=0
            break
        fi
    done
fi

if [[ "$need_install" == "1" ]]; then
    log "pip install -e \"$target\" (constraints: constraints.txt)"
    pip_install -c constraints.txt -e "$target"
    printf '%s\n' "$want_hash" > "$stamp"
fi

# 4. sanity checks + summary -----------------------------------------------------
"$VPY" - <<'PY'
import sys
from importlib import metadata

def v(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "MISSING"

cuda = sorted(
    d.metadata["Name"] for d in metadata.distributions()
    if (d.metadata["Name"] or "").lower().startswith(("nvidia-", "cuda-", "triton"))
)
if cuda:
    sys.exit("[setup] ERROR: CUDA packages were installed (torch constraint bypassed?): "
             + ", ".join(cuda))
print(f"[setup] ok: python {sys.version.split()[0]}, torch {v('torch')}, "
      f"skorch {v('skorch')}, scikit-learn {v('scikit-learn')}, skmtl {v('skmtl')}")
PY
