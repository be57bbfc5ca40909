"""Cost of sampling a camera per frame: buffer interpolation and the full calibrated CameraState.

    python -m bench.tracking_interp [--calls N]

A buffer holds 512 samples at 240 Hz with lens data; each call asks for a random instant inside
the buffered span (interpolation with slerp) or past its end (extrapolation), then the hub-level
path adds the lens profile, alignment and entrance pupil to build a ``CameraState``.
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np

from bench.common import machine, print_table
from vpstage.geometry.rotations import body_rotation
from vpstage.tracking.alignment import AlignmentTransform
from vpstage.tracking.buffer import SampleBuffer
from vpstage.tracking.calibration import CameraCalibration
from vpstage.tracking.lens_file import load_lens_library
from vpstage.tracking.sample import CameraSample

PERIOD_NS = 1_000_000_000 // 240


def filled_buffer() -> SampleBuffer:
    buf = SampleBuffer(capacity=512)
    for i in range(512):
        t = i / 240
        buf.push(CameraSample(protocol="freed", source="bench", camera_id=1, arrival_ns=i * PERIOD_NS, x_m=np.sin(t),
                              y_m=-3.0 + 0.1 * t, z_m=1.6, pan_deg=30 * np.sin(t), tilt_deg=-5.0, roll_deg=0.5,
                              zoom_raw=20000 + 10 * i, focus_raw=30000 - 5 * i))
    return buf


def per_call_us(fn, calls: int) -> float:  # type: ignore[no-untyped-def]
    times = list(range(calls))
    random.Random(1).shuffle(times)
    start = time.perf_counter()
    for i in times:
        fn(i)
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args()
    buf = filled_buffer()
    span = 511 * PERIOD_NS
    rng = random.Random(2)
    inside = [rng.randrange(0, span) for _ in range(args.calls)]
    past = [span + rng.randrange(0, 20_000_000) for _ in range(args.calls)]
    lens = load_lens_library("configs/lenses.yaml")["example-zoom-18-80"]
    calibration = CameraCalibration(
        sensor_width_mm=24.89, sensor_height_mm=18.66, image_width=3840, image_height=2160, lens=lens,
        alignment=AlignmentTransform(body_rotation(12.0, 0.5, 0.0), np.array([0.2, 1.0, 0.0])))
    rows = [
        ["buffer.state_at, interpolated (slerp)", per_call_us(lambda i: buf.state_at(inside[i]), args.calls)],
        ["buffer.state_at, extrapolated <= 20 ms",
         per_call_us(lambda i: buf.state_at(past[i], max_extrapolation_ns=20_000_000), args.calls)],
        ["buffer.state_at, held (no extrapolation)", per_call_us(lambda i: buf.state_at(past[i]), args.calls)],
        ["state_at + lens + alignment -> CameraState",
         per_call_us(lambda i: calibration.camera_state(buf.state_at(inside[i])), args.calls)],  # type: ignore[arg-type]
    ]
    print_table(f"Camera sampling cost per call (512-sample buffer), {machine()}", ["operation", "us/call"], rows)


if __name__ == "__main__":
    main()
