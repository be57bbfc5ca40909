"""Take review videos: time per frame of ``render_take_review`` on the demo stage (procedural:demo).

    python -m bench.takes_render [--frames 12] [--size 640x360] [--quality standard high]
                                 [--device cpu] [--threads N]

Records a take with a real TakeRecorder (camera A dollying and panning in the volume, a new
position every frame, so every frame is rendered), then renders it once per quality and prints
seconds per frame: rendering (``ReviewResult.render_s``) and the whole call (opening the take,
loading the scene, burn-in, encoding and writing the file).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import torch

from bench.common import machine, print_table
from render.review import RENDER_SCALE, ReviewOptions, render_take_review
from vpstage.stage import Stage
from vpstage.takes import CalibratedCameraState, CameraRecord, FrameRecord, SceneAssetState, TakeLibrary, TakeRecorder
from vpstage.timing.timecode import Timecode
from vpstage.tracking import CameraState

DEMO_STAGE = Path(__file__).resolve().parents[1] / "configs" / "stages" / "demo.yaml"
RATE = Fraction(24000, 1001)


def record_moving_take(db: Path, frames: int) -> None:
    project = Stage.open(DEMO_STAGE).project
    scene = tuple(SceneAssetState.from_placement(a.name, a.placement, "", a.enabled) for a in project.scene)
    with TakeRecorder(db) as recorder:
        recorder.start_take("BENCH", rate=RATE, project=project)
        for i in range(frames):
            state = CameraState.from_pan_tilt_roll((-1.0 + 0.04 * i, -1.5, 1.7), -15.0 + 2.0 * i, 3.0, 0.0, 28.0,
                                                   24.89, 14.0, image_width=1920, image_height=1080)
            count = 3600 * 24 + i
            camera = CameraRecord(camera="A", raw=None, calibrated=CalibratedCameraState.from_camera_state(state),
                                  tracking_age_ms=4.0)
            recorder.record(FrameRecord(frame=i, timecode=str(Timecode.from_count(count, RATE)), timecode_frames=count,
                                        rate=RATE, monotonic_ns=i * 41_708_333, cameras=(camera,), scene=scene))
        recorder.stop_take()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--quality", nargs="+", default=["standard", "high"], choices=list(RENDER_SCALE))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    width, height = (int(v) for v in args.size.split("x"))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "takes" / "takes.sqlite"
        record_moving_take(db, args.frames)
        with TakeLibrary(db) as library:
            for quality in args.quality:
                options = ReviewOptions(size=(width, height), quality=quality, device=args.device, codec="libx264")
                started = time.perf_counter()
                result = render_take_review(library, "BENCH_T01", Path(folder) / f"{quality}.mp4", options,
                                            project_dir=folder)
                total = time.perf_counter() - started
                rows.append([quality, f"{width}x{height}", args.device, result.frames, result.rendered,
                             result.render_s / result.rendered, total / result.frames,
                             f"{result.path.stat().st_size / 1024:.0f}"])
    print(f"machine: {machine()}, torch threads {torch.get_num_threads()}")
    print_table("take review video (render_take_review, demo stage)",
                ["quality", "size", "device", "frames", "rendered", "render s/frame", "total s/frame", "file KiB"],
                rows)


if __name__ == "__main__":
    main()
