"""The planner's per-frame cost for 1, 4 and 16 render nodes (target: <= 1 ms for 16 nodes).

    python -m bench.planner [--frames 300] [--nodes 1 4 16]

Stages: an arc volume of Absen PL3.9 (500 mm, 128 px) cabinets, 2 canvases of 1920 x 1080 per
node, one 12 x 6 cabinet section per canvas (1536 x 768 LED pixels), the sections side by side
over 300 degrees (radius grows with the node count). One tracked camera (FreeD samples pushed
into a TrackingHub) orbits inside looking at the wall, zooming 18-50 mm. Printed per node count:

* ``plan``: ``Planner.plan`` (what the frame loop calls), with its split: ``sample`` (tracking
  buffer, lens, alignment), ``cull`` (every cabinet against the inner frustum), ``build`` (the
  frame plan: camera orders, scene state; the rest);
* ``orders``: cutting the plan into one ``FrameOrder`` per node (``FramePlan.order``, the rest of
  the master's per-frame work before sending);
* ``exact frustum``: what planning the exact inner pixels and DoD crop of every node would cost
  instead (``StageFrustum.node`` per node, the work the render nodes do in parallel);
* canvases with inner views per frame (the cull's, and the exact ones).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from fractions import Fraction

import numpy as np

from bench.common import machine, print_table
from devices.tracking.hub import TrackingHub
from vpstage.frame_master import Planner
from vpstage.frustum.frustum import CameraFrustum
from vpstage.stage import Stage
from vpstage.stage.model import ArcSection, Camera, Canvas, MapEntry, Processor, Project, RenderNode, TrackingSource
from vpstage.timing import FrameClock, ManualTimeSource
from vpstage.tracking.sample import CameraSample

COLUMNS, ROWS, CABINET_M = 12, 6, 0.5


def arc_project(nodes: int) -> Project:
    sections, processors, canvases, pixel_map = [], [], [], []
    count = 2 * nodes
    radius = count * COLUMNS * CABINET_M / math.radians(300.0)
    step = 300.0 / count
    for k in range(count):
        name = f"wall{k:02d}"
        sections.append(ArcSection(kind="arc", name=name, panel="absen-pl3.9-pro", center=(0.0, 0.0),
                                   radius_m=radius, start_deg=-150.0 + k * step, columns=COLUMNS, rows=ROWS))
        processors.append(Processor(name=f"proc{k:02d}", model="Tessera S8", ports=8, port_capacity_px=525_000))
        canvases.append(Canvas(name=name, width=1920, height=1080, node=f"node{k // 2 + 1:02d}",
                               processor=f"proc{k:02d}"))
        for port in range(3):  # two cabinet rows per port: 1536 x 256 px
            pixel_map.append(MapEntry.model_validate(
                {"block": {"section": name, "columns": [0, COLUMNS - 1], "rows": [2 * port, 2 * port + 1]},
                 "canvas": name, "x": 0, "y": 256 * port, "port": port}))
    return Project(name=f"Bench arc, {nodes} nodes", frame_rate=Fraction(60), sections=sections,
                   processors=processors, canvases=canvases, pixel_map=pixel_map,
                   nodes=[RenderNode(name=f"node{n + 1:02d}") for n in range(nodes)],
                   tracking=[TrackingSource(name="sim", protocol="freed", address="udp://127.0.0.1:40000",
                                            camera_id=1)],
                   cameras=[Camera(name="A", tracker="sim", sensor_width_mm=24.88, sensor_height_mm=13.99,
                                   image_width=3840, image_height=2160, lens="zcam-freed")])


def sample_at(t_ns: int, i: int, radius: float) -> CameraSample:
    a = 2 * math.pi * i / 600
    eye = (0.3 * radius * math.sin(a), -0.3 * radius * math.cos(a), 1.7)
    pan = math.degrees(a) + 30 * math.sin(3 * a)
    focal = 34 + 16 * math.sin(2 * a)
    x, y, z = eye
    return CameraSample(protocol="freed", source="127.0.0.1", camera_id=1, arrival_ns=t_ns, x_m=x, y_m=y, z_m=z,
                        pan_deg=pan, tilt_deg=5 * math.sin(5 * a), roll_deg=0.0,
                        zoom_raw=round(focal * 100), focus_raw=30_000, user_bits=280)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(nodes: int, frames: int) -> list[object]:
    stage = Stage.from_project(arc_project(nodes), ".")
    radius = stage.project.sections[0].radius_m  # type: ignore[union-attr]
    hub = TrackingHub(stage.project)
    planner = Planner(stage, hub)
    time_source = ManualTimeSource(10**12)
    clock = FrameClock(stage.project.frame_rate, time_source=time_source, start_ns=10**12)
    assignment = {n.name: tuple(stage.canvases_of_node(n.name)) for n in stage.project.nodes}
    settings = planner.settings["A"]
    plan, sample, cull, orders, exact, seen, seen_exact = [], [], [], [], [], [], []
    for i in range(frames + 10):
        tick = clock.tick(i)
        hub.push("sim", sample_at(tick.time_ns, i, radius))
        t0 = time.perf_counter()
        frame_plan = planner.plan(tick)
        t1 = time.perf_counter()
        for canvases in assignment.values():
            frame_plan.order(canvases, 0)
        t1b = time.perf_counter()
        cameras, _ = planner.sampler.sample(tick.time_ns)
        t2 = time.perf_counter()
        frustum = CameraFrustum.from_camera(cameras[0].state, settings)  # type: ignore[arg-type]
        rects = planner.cull.launch_rects(frustum)
        t3 = time.perf_counter()
        node_frusta = [planner.frusta.node(n, cameras[0].state, settings) for n in assignment]  # type: ignore[arg-type]
        t4 = time.perf_counter()
        if i < 10:
            continue  # warm-up
        plan.append((t1 - t0) * 1e3)
        orders.append((t1b - t1) * 1e3)
        sample.append((t2 - t1b) * 1e3)
        cull.append((t3 - t2) * 1e3)
        exact.append((t4 - t3) * 1e3)
        seen.append(len(rects))
        seen_exact.append(sum(1 for nf in node_frusta for c in nf.canvases.values() if c.inner_rect is not None))
    med = statistics.median
    build = [p - s - c for p, s, c in zip(plan, sample, cull, strict=True)]
    cabinets = len(planner.cull)
    return [nodes, 2 * nodes, cabinets, med(plan), pct(plan, 0.99), med(sample), med(cull), med(build),
            med(orders), med(exact), pct(exact, 0.99), f"{np.mean(seen):.1f} / {np.mean(seen_exact):.1f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    rows = [measure(n, args.frames) for n in args.nodes]
    print_table(f"Planner per frame (ms), 1 camera, {args.frames} frames, {machine()}",
                ["nodes", "canvases", "cabinets", "plan p50", "plan p99", "sample", "cull", "build", "orders",
                 "exact frustum p50", "exact frustum p99", "canvases in view (cull / exact)"], rows)


if __name__ == "__main__":
    main()
