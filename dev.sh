#!/usr/bin/env bash
# vpstage developer entry point.
#   ./dev.sh run [ARGS]   set up (first time) and open the console in rehearsal mode
#   ./dev.sh test [ARGS]  set up (first time) and run the checks and tests (what CI runs)
#   ./dev.sh setup        only create/refresh the virtual environment (.venv)
#   ./dev.sh lint         ruff, mypy (strict on vpstage/), import-linter
#   ./dev.sh check-qt     check the system libraries Qt needs to open a window on X11 (Linux)
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

# Qt's X11 platform plugin (what a window on a desktop or under xvfb-run uses) loads system
# libraries that a fresh Debian machine may lack (libxcb-icccm4, libxcb-keysyms1, libxcb-cursor0,
# ...); Qt's own error names only one of them. ldd lists every one the plugin cannot find.
debian_package() {  # libxcb-icccm.so.4 -> libxcb-icccm4 (Debian's naming), with its exceptions
    local lib="$1" base ver
    case "$lib" in
        libglib-2.0.so.*|libgthread-2.0.so.*|libgobject-2.0.so.*|libgio-2.0.so.*) echo libglib2.0-0; return ;;
        libharfbuzz.so.*) echo libharfbuzz0b; return ;;
        libz.so.*) echo zlib1g; return ;;
        libgcc_s.so.*) echo libgcc-s1; return ;;
    esac
    base="${lib%%.so.*}"
    ver="${lib##*.so.}"
    ver="${ver%%.*}"
    base="$(printf '%s' "$base" | tr 'A-Z_' 'a-z-')"
    case "$base" in
        *[0-9]) echo "$base-$ver" ;;
        *) echo "$base$ver" ;;
    esac
}

check_qt_libs() {  # exit status 1 and the apt-get line when a library is missing
    [ "$(uname -s)" = Linux ] || return 0
    local plugin="" candidate
    for candidate in "$VENV"/lib/python3*/site-packages/PySide6/Qt/plugins/platforms/libqxcb.so; do
        [ -f "$candidate" ] && plugin="$candidate" && break
    done
    if [ -z "$plugin" ]; then
        echo "Qt's X11 platform plugin is not installed in $VENV (./dev.sh setup installs PySide6)" >&2
        return 1
    fi
    local missing
    missing="$( (ldd "$plugin" 2>/dev/null || true) | awk '/=> not found/ {print $1}' | sort -u)"
    if [ -z "$missing" ]; then
        return 0
    fi
    local packages
    packages="$(for lib in $missing; do debian_package "$lib"; done | sort -u | tr '\n' ' ')"
    {
        echo "Qt cannot open a window: its X11 (xcb) platform plugin needs libraries this machine lacks:"
        for lib in $missing; do echo "  $lib"; done
        echo "Install them (Debian/Ubuntu), then run this again:"
        echo "  sudo apt-get install ${packages% }"
    } >&2
    return 1
}

opens_a_window() {  # the console on X11: a display, Qt's default (xcb) platform, no subcommand
    [ -n "${DISPLAY:-}" ] || return 1
    case "${QT_QPA_PLATFORM:-xcb}" in xcb*) ;; *) return 1 ;; esac
    [ $# -eq 0 ] || [ "${1#-}" != "$1" ]
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
    run|console)
        setup
        if [ -z "${VPSTAGE_SKIP_QT_CHECK:-}" ] && opens_a_window "$@"; then
            check_qt_libs || exit 1
        fi
        exec "$PY" main.py "$@"
        ;;
    check-qt)
        check_qt_libs
        echo "Qt's X11 platform plugin finds every library it needs"
        ;;
    lint) setup; lint ;;
    test)
        setup
        lint
        echo "== pytest"
        exec "$PY" -m pytest "$@"
        ;;
    *) echo "usage: ./dev.sh run|test|lint|setup|check-qt [ARGS]" >&2; exit 64 ;;
esac
