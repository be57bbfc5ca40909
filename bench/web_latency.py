"""Glass-to-glass latency of the web viewer on loopback: frame published by the feed -> frame
decoded in a real browser (headless Chromium), read back from the frame counter stamped into the
picture.

    python -m bench.web_latency [--size 1280x720] [--fps 30] [--seconds 10] [--view camera]

A rehearsal engine (demo stage scaled down 8 times, render nodes on threads, test patterns) runs
with the web server on 127.0.0.1; Chromium opens the viewer page, which reads the counter from a
canvas draw of each video frame (``requestVideoFrameCallback``) and posts (frame, epoch ms) pairs;
the server subtracts the time it published that frame (one machine: one clock). Prints p50 / p99,
the frame rate the browser decoded, the codec, the viewer's dropped frames, and the wall's late
frames over the same time. Needs /usr/bin/chromium (Debian package ``chromium``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import machine, print_table

DEMO = Path(__file__).resolve().parents[1] / "configs" / "stages" / "demo.yaml"
WARMUP_S = 3.0


async def measure(url: str, token: str, size: str, view: str, seconds: float, server: object, engine: object) -> dict:
    from remote.status import wall_counts
    from tests.remote.chromium import Chromium, chromium_path

    executable = chromium_path()
    if executable is None:
        raise SystemExit("headless Chromium not found: apt-get install -y chromium")
    async with Chromium(executable) as browser:
        page = await browser.open(f"{url}#token={token}&size={size}&view={view}")
        await page.wait_for("window.vpstage && vpstage.decoded >= 10", 60)
        await asyncio.sleep(WARMUP_S)
        latency = server.parts.latency  # type: ignore[attr-defined]
        kept = len(latency.values())
        decoded0, wall0, start = await page.evaluate("vpstage.decoded"), wall_counts(engine), time.monotonic()
        await asyncio.sleep(seconds)
        decoded1, wall1, elapsed = await page.evaluate("vpstage.decoded"), wall_counts(engine), time.monotonic() - start
        await page.wait_for(f"vpstage.status && vpstage.status.latency.samples > {kept}", 10)
        await asyncio.sleep(1.0)  # the page posts its samples twice a second
        codec = await page.evaluate("vpstage.codec")
        viewers = server.parts.viewers.report()  # type: ignore[attr-defined]
    values = latency.values()[kept:]
    return {"values": values, "fps": (decoded1 - decoded0) / elapsed, "codec": codec, "viewers": viewers,
            "late": wall1["late"] - wall0["late"], "frames": wall1["frames"] - wall0["frames"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--view", default="camera")
    args = parser.parse_args(argv)

    from live import LiveEngine, LiveOptions
    from remote.engine_controls import EngineControls
    from remote.pictures import EnginePictures
    from remote.server import WebServer, WebSettings
    from remote.tokens import TokenStore
    from vpstage.stage import Stage
    from vpstage.stage.scaling import scaled_stage

    with tempfile.TemporaryDirectory(prefix="vpstage-web-bench-") as folder:
        stage = scaled_stage(Stage.open(DEMO), 8, Path(folder))
        engine = LiveEngine(stage, LiveOptions(rehearsal=True, outputs="none", scene_renderer=None,
                                               gpu_telemetry=False, cluster="threads", videohub=False))
        engine.cluster.start()
        engine.start()
        tokens = TokenStore(Path(folder) / "remote_tokens.json")
        token = tokens.create("viewer")
        server = WebServer(EngineControls(engine, started=True), EnginePictures(engine), tokens,
                           WebSettings(fps=args.fps))
        url = server.start()
        try:
            result = asyncio.run(measure(url, token, args.size, args.view, args.seconds, server, engine))
        finally:
            server.stop()
            engine.close()
    values = result["values"]
    if len(values) == 0:
        print("no latency samples came back", file=sys.stderr)
        return 1
    p50, p99 = np.percentile(values, [50, 99])
    viewer = result["viewers"][0] if result["viewers"] else {}
    print(f"machine: {machine()}")
    print_table(f"web viewer glass-to-glass, {args.size} at {args.fps:g} fps, view {args.view}, loopback",
                ["samples", "p50 ms", "p99 ms", "decoded fps", "codec", "viewer dropped", "wall late / frames"],
                [[len(values), float(p50), float(p99), float(result["fps"]), result["codec"],
                  f"{viewer.get('dropped', '?')} / {viewer.get('sent', '?')} sent",
                  f"{result['late']} / {result['frames']}"]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
