"""Colour on a render node: a scene canvas leaves the node as its OCIO code values (wall calibration
included), packed 8-bit or as 16-bit P216 for a 10-bit PQ canvas; test patterns are not transformed."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from render.colour.accuracy import ocio_reference
from render.node.frame_renderer import NodeFrameRenderer
from render.node.outputs import canvas_formats
from render.node.pixel_formats import LUMA_WEIGHTS, Packing
from tests.colour.conftest import ACES_CONFIG, PQ_1000, SDR, SRGB_TEXTURE
from tests.engine.helpers import tiny_stage
from tests.engine.scene_plugin import flat_colour
from tests.engine.test_frame_renderer import pictures, scene_job
from vpstage.colour.cube_file import CubeLut, write_cube
from vpstage.colour.settings import CanvasColour, ColourSettings, CubeCalibration
from vpstage.colour.transforms import CanvasTransform, canvas_processor
from vpstage.nodes.messages import OutputSettings, Thumbnail, ThumbnailRequest
from vpstage.nodes.spec import node_specs
from vpstage.stage import Stage

HALF = CubeLut(kind="3d", table=np.stack(np.meshgrid(*[np.linspace(0, 1, 2)] * 3, indexing="ij"), axis=-1) * 0.5)
"""A wall calibration that halves every code value."""
SCENE = np.array([flat_colour(1)], np.float32)
"""What the test scene plug-in paints inside the inner launch rectangle."""


def colour_stage(front: CanvasColour) -> Stage:
    base = tiny_stage()
    project = base.project.model_copy(deep=True)
    project.colour = ColourSettings(config=ACES_CONFIG, working_space=SRGB_TEXTURE, canvases={"front": front})
    return Stage.from_project(project, base.layout.base_dir)


def half_cube(folder: Path) -> CubeCalibration:
    write_cube(folder / "half.cube", HALF)
    return CubeCalibration(cube=str(folder / "half.cube"))


def render_front(stage: Stage, thumbnails: ThumbnailRequest | None = None
                 ) -> tuple[np.ndarray, np.ndarray, list[Thumbnail]]:
    spec = dataclasses.replace(node_specs(stage)["n1"], scene_renderer="tests.engine.scene_plugin:build")
    renderer = NodeFrameRenderer(spec, canvas_formats(stage.project, OutputSettings(fourcc="BGRX")))
    try:
        result = renderer.render(scene_job(spec.revision), thumbnails)
        try:
            assert result.errors == {}
            shown = dict(pictures(result))
            return shown["front"].copy(), shown["side"].copy(), result.thumbnails
        finally:
            result.release()
    finally:
        renderer.close()


def ocio(aces: Any, spec: CanvasTransform) -> np.ndarray:
    return ocio_reference(canvas_processor(aces, spec).getDefaultCPUProcessor(), SCENE)[0]


def test_a_calibrated_sdr_canvas_sends_ocio_code_values(tmp_path: Path, aces: Any) -> None:
    front = CanvasColour(display=SDR.display, view=SDR.view, calibration=half_cube(tmp_path))
    picture, side, _ = render_front(colour_stage(front))
    expected = ocio(aces, CanvasTransform(SRGB_TEXTURE, SDR)) * 0.5
    bgr = picture[10, 20, :3].astype(np.int32)
    np.testing.assert_allclose(bgr[::-1], np.round(expected * 255), atol=1)  # the baked LUT, within 1 code
    assert not picture[40, 100, :3].any()  # black stays black
    untouched, _, _ = render_front(tiny_stage())
    assert tuple(untouched[10, 20, :3]) == (0, 200, 50) != tuple(picture[10, 20, :3])
    assert side[..., :3].any()  # the side canvas (a test pattern, no colour settings) still renders


def test_the_preview_shows_code_values_or_on_request_the_scene(tmp_path: Path) -> None:
    """Thumbnails show what the wall gets; a scene-referred request shows the scene's values (the
    side canvas, a test pattern with no colour settings, looks the same either way)."""
    stage = colour_stage(CanvasColour(display=SDR.display, view=SDR.view, calibration=half_cube(tmp_path)))
    pixels: dict[bool, dict[str, np.ndarray]] = {}
    for scene_referred in (False, True):
        request = ThumbnailRequest(request=1, canvases=("front", "side"), max_width=192, max_bytes=1 << 20,
                                   scene_referred=scene_referred)
        picture, _, thumbnails = render_front(stage, request)
        pixels[scene_referred] = {t.canvas: np.frombuffer(t.pixels, np.uint8).reshape(t.height, t.width, 4)
                                  for t in thumbnails}
        if not scene_referred:
            np.testing.assert_array_equal(pixels[False]["front"], picture)  # code values, as sent
    assert tuple(pixels[True]["front"][10, 20, :3]) == (0, 200, 50)  # the scene's own colour
    assert tuple(pixels[False]["front"][10, 20, :3]) != (0, 200, 50)
    np.testing.assert_array_equal(pixels[True]["side"], pixels[False]["side"])


def test_a_10_bit_pq_canvas_is_packed_as_p216_with_the_bt2020_matrix(tmp_path: Path, aces: Any) -> None:
    front = CanvasColour(display=PQ_1000.display, view=PQ_1000.view, encoding="pq", peak_nits=1000, bits=10)
    stage = colour_stage(front)
    assert canvas_formats(stage.project, OutputSettings())["front"] == Packing("P216", 10, "2020")
    picture, _, _ = render_front(stage)
    assert picture.shape == (2 * 64, 192, 2)
    samples = picture.view(np.uint16).reshape(2 * 64, 192)
    assert not (samples & 0x3F).any()  # 10-bit codes, left-aligned in 16 bits
    code = ocio(aces, CanvasTransform(SRGB_TEXTURE, PQ_1000))
    kr, kb = LUMA_WEIGHTS["2020"]
    luma = kr * code[0] + (1 - kr - kb) * code[1] + kb * code[2]
    assert abs(int(samples[10, 20] >> 6) - round((16 + 219 * luma) * 4)) <= 1
    cb, cr = samples[64 + 10, 20] >> 6, samples[64 + 10, 21] >> 6
    assert abs(int(cb) - round((128 + 224 * (code[2] - luma) / (2 * (1 - kb))) * 4)) <= 1
    assert abs(int(cr) - round((128 + 224 * (code[0] - luma) / (2 * (1 - kr))) * 4)) <= 1
    assert int(samples[40, 100] >> 6) == 64  # black: video-range 64


def test_a_managed_canvas_whose_transform_cannot_bake_shows_why(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The node still runs; the managed canvas shows the error card with the reason, the others render."""
    import render.node.colour

    def out_of_memory(*_args: object) -> None:
        raise MemoryError("baking the LUT ran out of memory")

    monkeypatch.setattr(render.node.colour, "bake_canvas", out_of_memory)
    stage = colour_stage(CanvasColour(display=SDR.display, view=SDR.view))
    spec = dataclasses.replace(node_specs(stage)["n1"], scene_renderer="tests.engine.scene_plugin:build")
    renderer = NodeFrameRenderer(spec, canvas_formats(stage.project, OutputSettings(fourcc="BGRX")))
    try:
        result = renderer.render(scene_job(spec.revision))
        assert "colour transform failed to load" in result.errors["front"]
        assert "out of memory" in result.errors["front"] and "side" not in result.errors
        result.release()
    finally:
        renderer.close()


@pytest.mark.parametrize("bits", [10, 16])
def test_p216_code_values_are_quantised_to_the_canvas_bits(bits: int) -> None:
    import torch

    from render.node.pixel_formats import rgb_to_p216

    rgb = torch.tensor([[[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], [[0.5, 0.5, 0.5], [1.0, 0.0, 0.0]]])
    packing = Packing("P216", bits, "709")
    out = torch.empty(packing.shape(2, 2), dtype=torch.uint8)
    samples = rgb_to_p216(rgb, out, packing).numpy().view(np.uint16).reshape(4, 2).astype(np.int64)
    scale = 1 << (bits - 8)
    luma = [[16, 235], [16 + 219 * 0.5, 16 + 219 * 0.2126]]
    np.testing.assert_array_equal(samples[:2] >> (16 - bits), np.floor(np.array(luma) * scale + 0.5))
    assert samples[2, 0] >> (16 - bits) == samples[2, 1] >> (16 - bits) == 128 * scale  # greys: no chroma
