#!/usr/bin/env bash
# The live wall on GPUs: the demo stage at full size (four canvases on two render nodes) at 60 Hz
# with the procedural demo scene and a trained splat standing on the stage, a simulated orbit, and
# NDI outputs on loopback. One `main.py run` per canvas size (1920x1080, then 3840x2160), each
# measured with bench/cpu_probe.py, with bench/stall_probe.py beside it (the host's own stalls;
# with VPSTAGE_NODE_TRACE=DIR also the late frames they explain); optionally an older checkout
# first, on the same stage and the same card (before / after). Prints one summary table.
#
#   bench/gpu_frameloop.sh [OUT_DIR]        (default: $OUT, else bench-out/)
#   env: FRAMES (3600), RATE (60), GPUS (1), OUTPUTS (ndi|none), SPLAT (an asset to stand on the
#        stage: a splat .spz/.ply, a NeRF .nerf/.ingp or a baked .bnerf; empty: none),
#        DEADLINE_MS (present deadline after the frame instant; empty: one period),
#        CANVASES ("1920x1080 3840x2160"), BASELINE (an older checkout to run first),
#        BASELINE_CANVASES ("1920x1080"), BASELINE_FRAMES ($FRAMES), BASELINE_DROP (top-level stage
#        fields the older checkout does not know, removed from its stages: "colour cluster.deadline_ms"),
#        MOVE (orbit), PYTHON (python3)
# With VPSTAGE_NODE_TRACE=DIR each run's node timelines go to DIR/<run name>/.
# On the device machine: `source bench/device_env.sh` first (wheels and NDI's libraries).
set -uo pipefail
cd "$(dirname "$0")/.."
HERE="$PWD"
OUT_DIR="$(mkdir -p "${1:-${OUT:-bench-out}}" && cd "${1:-${OUT:-bench-out}}" && pwd)"
FRAMES="${FRAMES:-3600}"
RATE="${RATE:-60}"
GPUS="${GPUS:-1}"
OUTPUTS="${OUTPUTS:-ndi}"
SPLAT="${SPLAT:-}"
CANVASES="${CANVASES:-1920x1080 3840x2160}"
BASELINE="${BASELINE:-}"
BASELINE_CANVASES="${BASELINE_CANVASES:-1920x1080}"
BASELINE_FRAMES="${BASELINE_FRAMES:-$FRAMES}"
MOVE="${MOVE:-orbit}"
PY="${PYTHON:-python3}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=index,name,driver_version,memory.total \
    --format=csv | tee "$OUT_DIR/gpus.csv"

make_stage() {  # CANVAS FILE [KEYS TO DROP]
    "$PY" -m bench.gpu_frameloop stage --gpus "$GPUS" --rate "$RATE" --canvas "$1" \
        ${DEADLINE_MS:+--deadline-ms "$DEADLINE_MS"} -o "$2" || return 1
    if [ -n "$SPLAT" ]; then "$PY" -m bench.gpu_frameloop add-asset "$2" "$SPLAT" || return 1; fi
    if [ -n "${3:-}" ]; then "$PY" -m bench.gpu_frameloop drop-keys "$2" $3 || return 1; fi
}

run_one() {  # NAME TREE STAGE FRAMES
    local name=$1 tree=$2 stage=$3 frames=$4
    local trace="${VPSTAGE_NODE_TRACE:+$VPSTAGE_NODE_TRACE/$name}"
    [ -n "$trace" ] && mkdir -p "$trace"
    echo "== $name: $frames frames at $RATE Hz, outputs $OUTPUTS ($tree)"
    (cd "$HERE" && exec "$PY" -m bench.stall_probe "$OUT_DIR/$name.stalls.json") >"$OUT_DIR/$name.stalls.log" 2>&1 &
    local probe=$!
    (cd "$tree" && { [ -z "$trace" ] || export VPSTAGE_NODE_TRACE="$trace"; } && timeout $(( frames / RATE + 150 )) "$PY" "$HERE/bench/cpu_probe.py" "$OUT_DIR/$name.cpu.json" -- \
        main.py run --stage "$stage" --simulate "$MOVE" --frames "$frames" --outputs "$OUTPUTS" \
        --report "$OUT_DIR/$name.json") >"$OUT_DIR/$name.log" 2>&1
    local code=$?
    kill -TERM "$probe" 2>/dev/null; wait "$probe"
    echo "   exit $code : $(tail -3 "$OUT_DIR/$name.log" | tr '\n' ' ')"
    echo "   $(cat "$OUT_DIR/$name.stalls.log")"
    if [ -n "$trace" ] && [ -d "$trace" ]; then
        "$PY" -m bench.stall_probe --explain "$OUT_DIR/$name.stalls.json" "$trace" | sed 's/^/   /'
    fi
}

if [ "${MPS:-0}" = 1 ]; then
    export CUDA_MPS_PIPE_DIRECTORY="${CUDA_MPS_PIPE_DIRECTORY:-$OUT_DIR/mps-pipe}"
    export CUDA_MPS_LOG_DIRECTORY="${CUDA_MPS_LOG_DIRECTORY:-$OUT_DIR/mps-log}"
    mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
    nvidia-cuda-mps-control -d || { echo "MPS=1: could not start nvidia-cuda-mps-control" >&2; exit 1; }
    trap 'echo quit | nvidia-cuda-mps-control' EXIT
    echo "MPS on ($CUDA_MPS_PIPE_DIRECTORY)"
fi

reports=()
if [ -n "$BASELINE" ]; then
    for canvas in $BASELINE_CANVASES; do
        stage="$OUT_DIR/before_$canvas.stage.yaml"
        make_stage "$canvas" "$stage" "${BASELINE_DROP:-}" && run_one "before_$canvas" "$BASELINE" "$stage" "$BASELINE_FRAMES"
        [ -f "$OUT_DIR/before_$canvas.json" ] && reports+=("$OUT_DIR/before_$canvas.json")
    done
fi
for canvas in $CANVASES; do
    stage="$OUT_DIR/after_$canvas.stage.yaml"
    make_stage "$canvas" "$stage" && run_one "after_$canvas" "$HERE" "$stage" "$FRAMES"
    [ -f "$OUT_DIR/after_$canvas.json" ] && reports+=("$OUT_DIR/after_$canvas.json")
done
[ ${#reports[@]} -gt 0 ] && "$PY" -m bench.gpu_frameloop summary "${reports[@]}" | tee "$OUT_DIR/summary.md"
