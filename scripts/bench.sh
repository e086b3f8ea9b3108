#!/usr/bin/env bash
# Run every benchmark and regenerate the report:  bash scripts/bench.sh [run.py args...]
#   bash scripts/bench.sh            # full run, rewrites docs/benchmarks.md (48 min measured)
#   bash scripts/bench.sh --quick    # smoke run (< 5 min), build/benchmarks-quick/benchmarks.md
#   bash scripts/bench.sh --only penguins missing_labels
# Migrated benchmarks (penguins, missing_labels) write benchmarks/results/<name>.json and
# their sections are re-rendered without training by:  python benchmarks/report.py
# Installs the `benchmarks` extra (dataset packages, matplotlib) first. Honours VENV_DIR.
set -euo pipefail

source "$(dirname -- "${BASH_SOURCE[0]}")/_env.sh"

EXTRAS="${BENCH_EXTRAS:-benchmarks}" bash scripts/setup.sh

exec "$VENV_DIR/bin/python" benchmarks/run.py "$@"
