"""LED pixel positions of the example stages (issue: all of large_volume.yaml well under a second).

    python -m bench.stage_pixels [--repeat N]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.common import machine, print_table, summary_ms, time_call
from vpstage.stage import Stage
from vpstage.stage.pixels import all_pixel_positions, canvas_pixels

STAGES = Path(__file__).resolve().parents[1] / "configs" / "stages"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = []
    for name in ("flat_wall", "demo", "large_volume"):
        stage = Stage.open(STAGES / f"{name}.yaml")
        pixels = int(stage.cabinet_pixels.sum())
        t_all = summary_ms(time_call(lambda s=stage: all_pixel_positions(s.layout), args.repeat))
        first_canvas = stage.project.canvases[0].name
        t_canvas = summary_ms(time_call(lambda s=stage: canvas_pixels(s.layout, 0), args.repeat))
        rows.append([name, len(stage.layout.cabinets), f"{pixels:,}", t_all["median"], t_all["min"],
                     f"{pixels / (t_all['median'] / 1000) / 1e6:.0f}", first_canvas, t_canvas["median"]])
    print_table(f"All LED pixel positions, {machine()}",
                ["stage", "cabinets", "LED pixels", "all px median ms", "min ms", "Mpx/s",
                 "first canvas", "canvas map ms"], rows)


if __name__ == "__main__":
    main()
