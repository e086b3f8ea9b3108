#!/usr/bin/env bash
# Run the penguins demo:  bash scripts/demo.sh [demo args...]
# Installs the `benchmarks` extra (dataset packages) first. Honours VENV_DIR.
set -euo pipefail

REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

EXTRAS="${DEMO_EXTRAS:-benchmarks}" bash scripts/setup.sh

VENV_DIR="${VENV_DIR:-.venv}"
case "$VENV_DIR" in
    /*) ;;
    *) VENV_DIR="$REPO_ROOT/$VENV_DIR" ;;
esac

exec "$VENV_DIR/bin/python" examples/penguins_demo.py "$@"
