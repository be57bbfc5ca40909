"""Take recorder: frame-loop cost, sustained rate, durability latency, bytes per frame, read/export.

``python -m bench.takes_recorder [--frames 20000] [--seconds 5]``

Records carry 2 tracked cameras (raw + calibrated state), 4 render nodes and 2 scene assets,
with values that change every frame (a random walk), like a real take.

* ``record()``: cost on the frame-loop thread (it only queues);
* sustained: frames handed over as fast as possible, until ``stop_take`` returns (all durable);
* real time: 60 Hz for ``--seconds``; handover -> COMMIT latency is what a SIGKILL can lose,
  handover -> fsync adds at most ``fsync_interval_s``;
* bytes per frame: growth of the database file (after the closing checkpoint) per frame;
* read / export: ``TakeLibrary.frames`` and each export format for the sustained take.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from bench.common import machine, print_table, summary_ms
from vpstage.stage.model import Placement
from vpstage.takes import (
    CalibratedCameraState,
    CameraRecord,
    DurabilityPolicy,
    FrameRecord,
    NodeTiming,
    RawCameraState,
    SceneAssetState,
    TakeLibrary,
    TakeRecorder,
)
from vpstage.takes.exports import FORMATS, export_take
from vpstage.tracking import CameraState

RATE = Fraction(60)


class RecordSource:
    """Realistic frame records: camera poses and lens values on a random walk, per-node timings."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = np.random.default_rng(seed)
        self.walk = np.zeros((2, 7))
        self.scene = (SceneAssetState.from_placement("set", Placement(translation=(0.0, 3.0, 0.0)), "f" * 64),
                      SceneAssetState.from_placement("sky", Placement(scale=10.0), "e" * 64))

    def _camera(self, k: int) -> CameraRecord:
        self.walk[k] += self.rng.normal(0.0, 0.01, 7)
        x, y, z, pan, tilt, roll, zoom = self.walk[k]
        state = CameraState.from_pan_tilt_roll((x, y - 2.0, z + 1.6), 30 * pan, 10 * tilt, roll, 35 + zoom, 24.89,
                                               18.66, focus_distance_m=3.0 + x, f_stop=2.8,
                                               distortion=(-0.02, 0.001, 0.0, 0.0))
        raw = RawCameraState(protocol="freed", source=f"tracker{k}", x_m=float(x), y_m=float(y), z_m=float(z),
                             pan_deg=float(30 * pan), tilt_deg=float(10 * tilt), roll_deg=float(roll),
                             focus_raw=int(40000 + 1000 * x), iris_raw=1200, zoom_raw=int(30000 + 1000 * zoom))
        return CameraRecord(camera=f"cam{k}", raw=raw, calibrated=CalibratedCameraState.from_camera_state(state, 0.11),
                            tracking_age_ms=float(self.rng.uniform(2.0, 9.0)))

    def frame(self, i: int) -> FrameRecord:
        timings = self.rng.uniform(0.1, 12.0, (4, 3))
        nodes = tuple(NodeTiming(node=f"node{n}", plan_ms=float(timings[n, 0]), render_ms=float(timings[n, 1]),
                                 present_ms=float(timings[n, 2]), late=bool(timings[n, 1] > 11.9), dropped=False)
                      for n in range(4))
        count = 216000 + i
        tc = f"{count // 216000:02d}:{count // 3600 % 60:02d}:{count // 60 % 60:02d}:{count % 60:02d}"
        return FrameRecord(frame=i, timecode=tc, timecode_frames=count, rate=RATE, monotonic_ns=time.monotonic_ns(),
                           cameras=(self._camera(0), self._camera(1)), scene=self.scene, nodes=nodes)


def _record_cost(db: Path, frames: list[FrameRecord]) -> tuple[list[float], float, int]:
    """record() times (ms) and the time until stop_take returned (s), for frames handed over back to back."""
    with TakeRecorder(db, queue_frames=len(frames) + 16) as recorder:
        recorder.start_take("BENCH", rate=RATE)
        times = []
        start = time.perf_counter()
        for frame in frames:
            t0 = time.perf_counter_ns()
            recorder.record(frame)
            times.append((time.perf_counter_ns() - t0) / 1e6)
        take = recorder.stop_take(timeout_s=600.0)
        return times, time.perf_counter() - start, take.id


def _realtime(db: Path, source: RecordSource, seconds: float, policy: DurabilityPolicy) -> dict[str, float]:
    with TakeRecorder(db, policy=policy) as recorder:
        recorder.start_take("RT", rate=RATE)
        start = time.perf_counter()
        for i in range(int(seconds * 60)):
            delay = start + i / 60 - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            recorder.record(source.frame(i))
        recorder.stop_take()
        journal = recorder.stats().journal
    handover = summary_ms(list(journal.recent_handover_ms))
    commit = summary_ms(list(journal.recent_commit_ms))
    return {"handover_p50": handover["median"], "handover_p99": handover["p99"],
            "handover_max": journal.max_handover_to_commit_ms, "commit_p50": commit["median"],
            "commit_p99": commit["p99"], "commit_max": journal.max_commit_ms, "fsync_max": journal.max_fsync_ms,
            "to_fsync_max": journal.max_handover_to_fsync_ms,
            "commits": journal.commits}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20000, help="frames for the sustained run")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each real-time 60 Hz run")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    source = RecordSource()
    frames = [source.frame(i) for i in range(args.frames)]
    with tempfile.TemporaryDirectory(prefix="vpstage-bench-takes-") as tmp:
        db = Path(tmp) / "takes.sqlite"
        TakeRecorder(db).close()
        empty = db.stat().st_size
        calls, total_s, take_id = _record_cost(db, frames)
        size = db.stat().st_size + (db.with_name(db.name + "-wal").stat().st_size
                                    if db.with_name(db.name + "-wal").exists() else 0)
        cost = summary_ms(calls)
        print_table("Sustained recording (2 cameras, 4 nodes, 2 assets per frame)",
                    ["frames", "record() median us", "record() p99 us", "until durable s", "frames/s",
                     "bytes/frame"],
                    [[args.frames, cost["median"] * 1000, cost["p99"] * 1000, total_s, round(args.frames / total_s),
                      round((size - empty) / args.frames)]])
        rows = []
        for label, policy in (("default (commit 30 ms, then fsync)", DurabilityPolicy()),
                              ("commit 30 ms, fsync within 50 ms", DurabilityPolicy(fsync_interval_s=0.05)),
                              ("no fsync (process-crash safe only)", DurabilityPolicy(fsync_interval_s=None))):
            r = _realtime(Path(tmp) / f"rt-{len(rows)}.sqlite", source, args.seconds, policy)
            rows.append([label, r["handover_p50"], r["handover_p99"], r["handover_max"], r["commit_p50"],
                         r["commit_p99"], r["commit_max"], r["fsync_max"], r["to_fsync_max"], int(r["commits"])])
        print_table(f"Real time, 60 Hz for {args.seconds:g} s: handover -> COMMIT (ms)",
                    ["policy", "p50", "p99", "max", "commit p50", "commit p99", "commit max", "fsync max",
                     "handover -> fsync max", "commits"],
                    rows)
        with TakeLibrary(db) as library:
            start = time.perf_counter()
            library.frames(take_id)
            rows = [["read all frames", time.perf_counter() - start]]
            for fmt, spec in FORMATS.items():
                start = time.perf_counter()
                export_take(library, take_id, fmt, Path(tmp) / f"take{spec.suffix}")
                rows.append([f"export {fmt}", time.perf_counter() - start])
        print_table(f"Read back and export {args.frames} frames", ["operation", "seconds"], rows)


if __name__ == "__main__":
    main()
