#!/usr/bin/env bash
# Run the test suite:  bash scripts/test.sh [pytest args...]
#
# Without arguments runs `pytest -q -n 2` (pytest-xdist, one torch thread per
# worker). Any arguments replace those defaults, e.g.
#   bash scripts/test.sh tests/test_foo.py -x -q
# Honours VENV_DIR (see scripts/setup.sh).
set -euo pipefail

source "$(dirname -- "${BASH_SOURCE[0]}")/_env.sh"

EXTRAS="${TEST_EXTRAS:-tests}" bash scripts/setup.sh

if [[ $# -eq 0 ]]; then
    set -- -q -n 2
fi

# With xdist workers, keep each worker's intra-op thread pools at one thread
# (conftest.py also calls torch.set_num_threads(1) in workers).
for arg in "$@"; do
    case "$arg" in
        -n|-n*|--numprocesses|--numprocesses=*|-d|--dist|--dist=*)
            export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
            export MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
            export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
            break
            ;;
    esac
done

exec "$VENV_DIR/bin/python" -m pytest "$@"
