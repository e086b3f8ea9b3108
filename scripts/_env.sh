# Sourced by the scripts in this folder: makes the repository root the working
# directory and sets VENV_DIR to the virtualenv's absolute path (default .venv,
# relative paths are relative to the repository root).
REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
VENV_DIR="${VENV_DIR:-.venv}"
case "$VENV_DIR" in
    /*) ;;
    *) VENV_DIR="$REPO_ROOT/$VENV_DIR" ;;
esac
export VENV_DIR
