"""The render node's GPU frame against its CPU reference (VPSTAGE_GPU_TESTS=1 on a CUDA machine):
packing on the device, test patterns through the pinned host ring, a scene canvas, thumbnails."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

from devices.outputs.pixels import bgrx_to_uyvy  # noqa: E402
from render.node.frame_renderer import NodeFrameRenderer  # noqa: E402
from render.node.pixel_formats import pack_rgb  # noqa: E402
from tests.engine.helpers import jobs_from_plan, tiny_stage  # noqa: E402
from vpstage.frame_master import PatternSource  # noqa: E402
from vpstage.nodes.messages import ThumbnailRequest  # noqa: E402
from vpstage.nodes.spec import node_specs  # noqa: E402
from vpstage.patterns import PatternPainter, PatternSpec  # noqa: E402
from vpstage.timing import FrameClock  # noqa: E402


def test_packing_on_the_gpu_gives_the_cpu_bytes() -> None:
    rgb = torch.rand((270, 480, 3), generator=torch.Generator().manual_seed(2)) * 1.1 - 0.05
    for channels in (2, 4):
        cpu = pack_rgb(rgb, torch.empty((270, 480, channels), dtype=torch.uint8))
        gpu = pack_rgb(rgb.cuda(), torch.empty((270, 480, channels), dtype=torch.uint8, device="cuda"))
        torch.testing.assert_close(gpu.cpu(), cpu, rtol=0, atol=0)


@pytest.mark.parametrize("fourcc", ["UYVY", "BGRX"])
def test_patterns_reach_the_pinned_host_ring_exactly(fourcc: str) -> None:
    stage = tiny_stage()
    spec = node_specs(stage)["n1"]
    renderer = NodeFrameRenderer(dataclasses.replace(spec, device="cuda:0"),
                                 {"front": fourcc, "side": fourcc})  # type: ignore[dict-item]
    painter = PatternPainter(stage.layout)
    clock = FrameClock(stage.project.frame_rate)
    source = PatternSource(stage, PatternSpec(name="sync"))
    for frame in range(3):
        job = jobs_from_plan(stage, source.plan(clock.tick(frame)), {"n1": ("front",)})["n1"]
        request = ThumbnailRequest(request=frame, canvases=("front",), max_width=96, max_bytes=1 << 16)
        rendered = renderer.render(job, request)
        _, slot = rendered.slots["front"]
        assert slot.host.is_pinned()
        expected = painter.paint("front", PatternSpec(name="sync"), frame)
        if fourcc == "UYVY":
            expected = bgrx_to_uyvy(expected)
        np.testing.assert_array_equal(slot.array, expected)
        assert rendered.thumbnails and rendered.thumbnails[0].width == 96
        assert rendered.gpu_ms >= 0 and rendered.render_ms > 0
        rendered.release()
    renderer.close()


@pytest.mark.parametrize("fourcc", ["UYVY", "BGRX"])
def test_scene_packing_graphs_replay_what_eager_packing_gives(fourcc: str) -> None:
    from render.node.canvas_buffers import CanvasBuffers

    buffers = CanvasBuffers("wall", 640, 360, fourcc, torch.device("cuda:0"), 3)  # type: ignore[arg-type]
    stream = torch.cuda.Stream()
    generator = torch.Generator().manual_seed(9)
    for frame in range(7):  # eager first, then one captured graph per slot, replayed
        colour = torch.rand((360, 640, 3), generator=generator)
        with torch.cuda.stream(stream):
            buffers.colour.copy_(colour.cuda())
            slot = buffers.acquire(frame)
            buffers.finish_colour(slot, stream)
        buffers.wait(slot)
        channels = 2 if fourcc == "UYVY" else 4
        expected = pack_rgb(colour, torch.empty((360, 640, channels), dtype=torch.uint8)).numpy()
        np.testing.assert_array_equal(slot.array, expected)
        buffers.release(slot)
    assert len(buffers._graphs) == 3 and not buffers._graph_failed
