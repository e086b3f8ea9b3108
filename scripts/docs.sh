#!/usr/bin/env bash
# Build the documentation (Sphinx + numpydoc + sphinx-gallery) into docs/_build/html.
#
# Usage:  bash scripts/docs.sh            # full build: executes the example gallery
#         bash scripts/docs.sh --quick    # does not execute examples/plot_*.py
#         DOCS_QUICK=1 bash scripts/docs.sh
#         bash scripts/docs.sh -- -E      # anything after -- goes to sphinx-build
#
# Installs the `docs` extra first (scripts/setup.sh; a no-op when up to date). Warnings
# are errors (-W --keep-going). The build is offline: no intersphinx inventories or
# other remote resources are fetched. Honours VENV_DIR (see scripts/setup.sh).
set -euo pipefail

source "$(dirname -- "${BASH_SOURCE[0]}")/_env.sh"

quick="${DOCS_QUICK:-0}"
extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) quick=1 ;;
        --full) quick=0 ;;
        --) shift; extra+=("$@"); break ;;
        -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "docs.sh: unknown argument '$1' (use --quick, --full or -- SPHINX_ARGS)" >&2
           exit 2 ;;
    esac
    shift
done

EXTRAS="${DOCS_EXTRAS:-docs}" bash scripts/setup.sh

# The examples train tiny networks: one thread per BLAS/OpenMP pool is as fast and avoids
# oversubscribing shared cores (docs/conf.py sets torch's thread count to 1 as well).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
export MPLBACKEND=Agg

args=(-W --keep-going -b html)
if [[ "$quick" == "1" ]]; then
    echo "[docs] quick build: the example gallery is not executed (plot_gallery=0)"
    args+=(-D plot_gallery=0)
else
    echo "[docs] full build: executing the example gallery"
fi

exec "$VENV_DIR/bin/python" -m sphinx "${args[@]}" "${extra[@]}" docs docs/_build/html
