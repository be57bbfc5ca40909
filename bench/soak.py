"""Soak: a CPU rehearsal left running, to see that nothing grows and the loop keeps its rate.

    python -m bench.soak [--minutes 10] [--rate 60] [--scale 8] [--outputs ndi|none]

The demo stage scaled down ``--scale`` times per cabinet side (the console's CPU rehearsal), run
at ``--rate`` with the procedural demo scene, a simulated orbit on loopback and NDI senders in
the render node processes. Memory (RSS) of the frame master and of every node process is sampled
once the run has settled (after the first minute) and at the end; the table prints both, with the
frames, skipped, late and dropped counts of the whole run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from fractions import Fraction
from pathlib import Path

from bench.common import machine, print_table
from live import LiveEngine, LiveOptions
from vpstage.nodes import RenderQuality
from vpstage.stage import Stage
from vpstage.stage.scaling import scaled_stage

DEMO = Path(__file__).resolve().parents[1] / "configs" / "stages" / "demo.yaml"
SETTLE_S = 60.0


def rss_mib(pid: int) -> float:
    """Resident memory of a process (Linux /proc), MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def memory(engine: LiveEngine) -> dict[str, float]:
    out = {"master": rss_mib(os.getpid())}
    for node in engine.stage.project.nodes:
        process = engine.cluster.process(node.name)
        if process is not None and process.pid is not None and process.alive():
            out[node.name] = rss_mib(process.pid)
    return out


def soak(minutes: float, rate: int, scale: int, outputs: str) -> None:
    with tempfile.TemporaryDirectory(prefix="vpstage-soak-") as tmp:
        stage = scaled_stage(Stage.open(DEMO), scale, Path(tmp))
        project = stage.project.model_copy(deep=True)
        project.frame_rate = Fraction(rate)
        stage = Stage.from_project(project, stage.layout.base_dir)
        options = LiveOptions(rehearsal=True, outputs=outputs,  # type: ignore[arg-type]
                              quality=RenderQuality(0.25, 0.05), simulate_rate_hz=float(rate))
        engine = LiveEngine(stage, options)
        try:
            engine.cluster.start()
            engine.start()
            time.sleep(SETTLE_S)
            start = memory(engine)
            frames_at_start = engine.loop.history.frames
            time.sleep(max(0.0, minutes * 60 - SETTLE_S))
            end = memory(engine)
            engine.stop()
            report = engine.report()
        finally:
            engine.close()
    rows = [[who, round(start[who], 1), round(end.get(who, float("nan")), 1),
             round(end.get(who, float("nan")) - start[who], 1)] for who in start]
    print_table(f"Soak, {minutes:g} min CPU rehearsal at {rate} Hz (demo stage 1/{scale}), outputs {outputs}, "
                f"{machine()}", ["process", "RSS after 1 min (MiB)", "RSS at the end (MiB)", "growth (MiB)"], rows)
    print_table("Frames", ["frames", "frames after settling", "skipped", "late", "dropped", "skew p99",
                           "tracking->send p99"],
                [[report["frames"], report["frames"] - frames_at_start, report["skipped"], report["late"],
                  report["dropped"], report["present_skew_ms"]["p99"], report["tracking_to_present_ms"]["p99"]]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=60, choices=[24, 25, 30, 48, 50, 60])
    parser.add_argument("--scale", type=int, default=8)
    parser.add_argument("--outputs", choices=["ndi", "none"], default="ndi")
    args = parser.parse_args()
    if args.minutes * 60 <= SETTLE_S:
        parser.error(f"--minutes must be longer than the {SETTLE_S:.0f} s settling time")
    soak(args.minutes, args.rate, args.scale, args.outputs)


if __name__ == "__main__":
    main()
