#!/usr/bin/env bash
# The live frame loop on GPUs: the demo stage at full canvas size (4 x 1920x1080 on 2 nodes) at
# 60 Hz with the procedural demo scene and a simulated orbit, on 1 GPU (both nodes on cuda:0) and
# on 2 GPUs (node1 on cuda:0, node2 on cuda:1). Writes one `main.py run` report per run and prints
# a summary table (late, dropped, fresh frames/s and scaling, render, skew, GPU utilization).
#
#   bench/gpu_frameloop.sh [OUT_DIR]        (default: $OUT, else bench-out/)
#   env: FRAMES (1200), RATE (60), OUTPUTS (none|ndi), CLUSTER (embedded|ray), MOVE (orbit),
#        INNER_SCALE (1.0), OUTER_SCALE (1.0), GPUS ("1 2")
set -euo pipefail
cd "$(dirname "$0")/.."
OUT_DIR="${1:-${OUT:-bench-out}}"
FRAMES="${FRAMES:-1200}"
RATE="${RATE:-60}"
OUTPUTS="${OUTPUTS:-none}"
CLUSTER="${CLUSTER:-embedded}"
MOVE="${MOVE:-orbit}"
INNER_SCALE="${INNER_SCALE:-1.0}"
OUTER_SCALE="${OUTER_SCALE:-1.0}"
GPUS="${GPUS:-1 2}"
PY="${PYTHON:-python}"
mkdir -p "$OUT_DIR"
nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv | tee "$OUT_DIR/gpus.csv"
reports=()
for gpus in $GPUS; do
  report="$OUT_DIR/frameloop_${gpus}gpu.json"
  stage="$OUT_DIR/frameloop_${gpus}gpu.stage.yaml"   # the summary reads it beside the report
  "$PY" -m bench.gpu_frameloop stage --gpus "$gpus" --rate "$RATE" -o "$stage"
  echo "== $gpus GPU(s): $FRAMES frames at $RATE Hz, outputs $OUTPUTS, cluster $CLUSTER"
  "$PY" main.py run --stage "$stage" --simulate "$MOVE" --frames "$FRAMES" --outputs "$OUTPUTS" \
    --cluster "$CLUSTER" --inner-scale "$INNER_SCALE" --outer-scale "$OUTER_SCALE" \
    --report "$report" 2>&1 | tee "$OUT_DIR/frameloop_${gpus}gpu.log"
  reports+=("$report")
done
"$PY" -m bench.gpu_frameloop summary "${reports[@]}" | tee "$OUT_DIR/summary.md"
