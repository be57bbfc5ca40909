#!/usr/bin/env bash
# vpstage developer entry point.
#   ./dev.sh run [ARGS]   set up (first time) and open the console in rehearsal mode
#   ./dev.sh test [ARGS]  set up (first time) and run the checks and tests (what CI runs)
#   ./dev.sh setup        only create/refresh the virtual environment (.venv)
#   ./dev.sh lint         ruff, mypy (strict on vpstage/), import-linter
set -euo pipefail
cd "$(dirname "$0")"

VENV="${VPSTAGE_VENV:-.venv}"
PY="$VENV/bin/python"

setup() {
    if [ ! -x "$PY" ]; then
        echo "== creating $VENV"
        python3 -m venv "$VENV"
    fi
    local stamp="$VENV/.vpstage-setup"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ dev.sh -nt "$stamp" ]; then
        echo "== installing dependencies into $VENV"
        "$PY" -m pip install -q --upgrade pip
        # Without a GPU, take the CPU build of torch first: an unpinned torch pulls gigabytes of CUDA.
        if ! "$PY" -c "import torch" 2>/dev/null; then
            if command -v nvidia-smi >/dev/null 2>&1; then
                "$PY" -m pip install -q torch
            else
                "$PY" -m pip install -q "torch==2.13.0"
            fi
        fi
        "$PY" -m pip install -q -e ".[dev]"
        touch "$stamp"
    fi
}

lint() {
    echo "== import-linter (layering)"
    "$VENV/bin/lint-imports" --no-cache
    echo "== ruff"
    "$VENV/bin/ruff" check .
    echo "== mypy (strict on vpstage/)"
    "$VENV/bin/mypy" vpstage
}

cmd="${1:-run}"
[ $# -gt 0 ] && shift
case "$cmd" in
    setup) setup ;;
    run|console) setup; exec "$PY" main.py "$@" ;;
    lint) setup; lint ;;
    test)
        setup
        lint
        echo "== pytest"
        exec "$PY" -m pytest "$@"
        ;;
    *) echo "usage: ./dev.sh run|test|lint|setup [ARGS]" >&2; exit 64 ;;
esac
