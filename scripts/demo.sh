#!/usr/bin/env bash
# Run the penguins demo:  bash scripts/demo.sh [demo args...]
# Installs the `benchmarks` extra (dataset packages) first. Honours VENV_DIR.
set -euo pipefail

source "$(dirname -- "${BASH_SOURCE[0]}")/_env.sh"

EXTRAS="${DEMO_EXTRAS:-benchmarks}" bash scripts/setup.sh

exec "$VENV_DIR/bin/python" examples/penguins_demo.py "$@"
