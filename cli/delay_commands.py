"""``measure-delay``: measure the tracking-to-wall delay in a closed loop and propose ``delay_ms``.

    python main.py measure-delay [--stage STAGE] [--seconds S] [--canvas NAME] [--inject-ms X] [--json]
        [--scale N] [--cluster local|ray|threads] [--delay-ms D] [--extrapolate-ms E] [--max-lag-ms M]
        [--amplitude-deg A] [--distance-m D] [--capture SOURCE]

A simulated tracker pans the stage's first camera in a pseudo-random binary pattern, the live
engine puts its inner frustum on the wall (white on black), an NDI receiver on loopback watches
one canvas, and the lag between the commanded pan and the window's position in the pictures is
found by cross-correlation (``live.delay_probe``, ``vpstage.tracking.delay_measure``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK

DEFAULT_STAGE = Path(__file__).resolve().parents[1] / "configs" / "stages" / "demo.yaml"
CPU_SCALE = 8


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("measure-delay", help="measure the tracking-to-wall delay (closed loop over NDI) and "
                       "propose the camera's delay_ms")
    p.add_argument("--stage", default=str(DEFAULT_STAGE), help="stage / project YAML file (default: the demo stage)")
    p.add_argument("--seconds", type=float, default=6.0, help="seconds of pictures to analyse (default 6)")
    p.add_argument("--canvas", help="canvas to watch (default: the one with the most room to pan)")
    p.add_argument("--inject-ms", type=float, default=0.0,
                   help="hold every tracking packet back this long on its way to the hub (checks the tool)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--scale", type=int, metavar="N",
                   help="divide every cabinet's pixels, canvas and pixel-map offset by N (default: "
                   f"{CPU_SCALE} when every render node is on the CPU, else 1)")
    p.add_argument("--cluster", choices=["local", "ray", "threads"],
                   help="override the project's cluster backend (local: one process per render node)")
    p.add_argument("--delay-ms", type=float, help="the camera's delay_ms during the run (default: the project's)")
    p.add_argument("--extrapolate-ms", type=float,
                   help="the camera's extrapolate_ms during the run (default: the project's)")
    p.add_argument("--max-lag-ms", type=float, default=500.0, help="search the lag within +-this (default 500)")
    p.add_argument("--amplitude-deg", type=float, default=10.0, help="largest pan swing either side (default 10)")
    p.add_argument("--distance-m", type=float, default=3.0,
                   help="the probe camera stands this far in front of the canvas (default 3)")
    p.add_argument("--capture", metavar="SOURCE",
                   help="watch the wall through this OpenCV video source (camera index or URL) instead of NDI; "
                   "the project's network mode is kept so its outputs reach the wall")
    p.set_defaults(handler=cmd_measure_delay)


def machine() -> str:
    """One line naming this machine (for figures)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def _settings(args: argparse.Namespace) -> Any:
    from live.delay_probe import ProbeSettings

    capture: int | str | None = None
    if args.capture is not None:
        capture = int(args.capture) if args.capture.isdigit() else args.capture
    settings = ProbeSettings(seconds=args.seconds, canvas=args.canvas, inject_ms=args.inject_ms,
                             max_lag_ms=args.max_lag_ms, amplitude_deg=args.amplitude_deg,
                             distance_m=args.distance_m, cluster=args.cluster, delay_ms=args.delay_ms,
                             extrapolate_ms=args.extrapolate_ms, capture=capture)
    settings.check()
    return settings


def _open_stage(args: argparse.Namespace, workdir: Path) -> Any:
    from vpstage.stage import Stage
    from vpstage.stage.scaling import scaled_stage

    stage = Stage.open(args.stage)
    scale = args.scale
    if scale is None:
        scale = CPU_SCALE if all(n.gpu is None for n in stage.project.nodes) else 1
    if scale < 1:
        raise ValueError("--scale must be at least 1")
    return scaled_stage(stage, scale, workdir) if scale > 1 else stage, scale


def cmd_measure_delay(args: argparse.Namespace) -> int:
    import tempfile

    from cli.stage_commands import _print_problems
    from devices.outputs.ndi_runtime import NdiUnavailable
    from vpstage.config import ConfigError
    from vpstage.frame_master import WorkerStartError

    with tempfile.TemporaryDirectory(prefix="vpstage-delay-") as workdir:
        try:
            settings = _settings(args)
            stage, scale = _open_stage(args, Path(workdir))
            from live.delay_probe import run_probe

            progress = (lambda line: print(line, file=sys.stderr)) if not args.json else None
            result = run_probe(stage, settings, progress=progress)
        except ConfigError as exc:
            return _print_problems(exc)
        except (WorkerStartError, NdiUnavailable, TimeoutError) as exc:
            print(f"measure-delay: {exc}", file=sys.stderr)
            return EXIT_FAILED
        except (ValueError, KeyError, OSError) as exc:
            print(f"{args.stage}: {exc}", file=sys.stderr)
            return EXIT_INVALID
    out = result.to_dict()
    out["stage"] = args.stage
    out["scale"] = scale
    out["machine"] = machine()
    if args.json:
        print(json.dumps(out, indent=2, allow_nan=False))
    else:
        _print_result(out)
    return EXIT_OK if out["reliable"] else EXIT_FAILED


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def _print_result(out: dict[str, Any]) -> None:
    aim = out["aim"]
    print(f"stage {out['stage']} (scale {out['scale']}), canvas {out['canvas']}, camera {out['camera']}, "
          f"{out['frame_rate']} fps, simulated tracker at {out['tracker_rate_hz']:g} Hz"
          + (f", {out['inject_ms']:g} ms injected on the tracker side" if out["inject_ms"] else ""))
    print(f"probe: eye {aim['eye_m']} m, pan {aim['pan_deg']:.1f} deg +-{aim['amplitude_deg']:.1f} deg "
          f"(pseudo-random binary), {aim['focal_length_mm']:g} mm; camera ran with delay_ms {out['delay_ms']:g}, "
          f"extrapolate_ms {out['extrapolate_ms']:g}")
    print(f"watched: {out['watched']}")
    print(f"pictures: {out['pictures']} received, {out['pictures_with_signal']} with the window; frames "
          f"{out['frames']}, late {out['late']}, dropped {out['dropped']} (the watched canvas's node)")
    wall = out["wall"]
    if wall is None:
        print("tracking to wall: not measured")
    else:
        print(f"tracking to wall (NDI arrival): {wall['lag_ms']:.1f} ms = {wall['lag_frames']:.2f} frames; "
              f"confidence {wall['confidence']:.2f} (peak {wall['peak']:.3f}, sidelobe {wall['sidelobe']:.2f}, "
              f"main lobe {wall['width_samples']:.1f} frames wide), picture/pose gain {wall['gain']:.2f}")
    present, plan = out["present"], out["plan"]
    print(f"  of which: to the frame instant (planner) {_ms(plan and plan['lag_ms'])}, to present (frame "
          f"timecode, node's present time) {_ms(present and present['lag_ms'])}")
    if out["proposed_delay_ms"] is not None:
        print(f"proposed delay_ms: {out['proposed_delay_ms']:g} (with extrapolate_ms: "
              f"{out['proposed_extrapolate_ms']:g}): cancels the measured latency (the pose is sampled "
              f"delay_ms before the frame instant; a negative value predicts it)")
    for problem in out["problems"]:
        print(f"warning: {problem}")
    if not out["reliable"]:
        print("the measurement is not reliable: see the warnings")
