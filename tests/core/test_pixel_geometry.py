"""LED pixel positions against hand computation, for each section kind."""

import math
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import STAGES
from vpstage.stage import Stage
from vpstage.stage.pixels import all_pixel_positions, canvas_pixels
from vpstage.stage.sections import arc_step_deg

PITCH = 0.5 / 192  # metres, flat_wall.yaml's 500 mm / 192 px cabinet


@pytest.fixture(scope="module")
def flat() -> Stage:
    return Stage.open(STAGES / "flat_wall.yaml")


def test_flat_wall_corner_and_centre_pixels(flat: Stage) -> None:
    px = flat.canvas_pixels("main")
    assert px.positions.shape == (1152, 2304, 3) and px.valid.all()
    half = PITCH / 2
    # canvas (0, 0) is cabinet c0 r0's top-left LED: top-left of the wall seen from the front
    assert px.positions[0, 0] == pytest.approx([-3 + half, 0, 3 - half], abs=1e-6)
    assert px.positions[0, -1] == pytest.approx([3 - half, 0, 3 - half], abs=1e-6)
    assert px.positions[-1, 0] == pytest.approx([-3 + half, 0, half], abs=1e-6)
    assert px.positions[-1, -1] == pytest.approx([3 - half, 0, half], abs=1e-6)
    # the wall centre falls between canvas pixels 1151/1152 (x) and 575/576 (y)
    centre = (px.positions[575:577, 1151:1153].reshape(-1, 3)).mean(0)
    assert centre == pytest.approx([0, 0, 1.5], abs=1e-6)
    # cabinet (column 5, row 2) sits at x = 192 * 5, y = 192 * 2
    cab = flat.layout.id_to_index["wall/c05r02"]
    assert (px.cabinet[384, 960], px.cabinet[384 + 191, 960 + 191]) == (cab, cab)
    assert px.positions[384, 960] == pytest.approx([-3 + 5 * 0.5 + half, 0, 3 - 2 * 0.5 - half], abs=1e-6)


def test_flat_wall_faces_minus_y(flat: Stage) -> None:
    normals = flat.canvas_pixels("main").normals
    assert np.allclose(normals.reshape(-1, 3), [0, -1, 0], atol=1e-6)


def test_flat_pixel_spacing_is_the_pitch(flat: Stage) -> None:
    pos = flat.canvas_pixels("main").positions
    assert np.allclose(np.diff(pos[10, :, 0]), PITCH, atol=1e-6)
    assert np.allclose(np.diff(pos[:, 10, 2]), -PITCH, atol=1e-6)


def test_arc_pixels_on_circle_facing_axis() -> None:
    stage = Stage.open(STAGES / "demo.yaml")
    layout = stage.layout
    step = math.radians(arc_step_deg(4.5, 0.5))
    sagitta = 4.5 * (1 - math.cos(step / 2))
    arc_secs = {i for i, s in enumerate(stage.project.sections) if s.kind == "arc"}
    normals = layout.cabinets.normals()
    for (idx, pos) in all_pixel_positions(layout).values():
        keep = np.array([layout.cabinets.section[i] in arc_secs for i in idx])
        if not keep.any():
            continue
        p = pos[keep].reshape(-1, 3).astype(np.float64)
        r = np.hypot(p[:, 0], p[:, 1])
        assert r.max() <= 4.5 + 1e-5 and r.min() >= 4.5 - sagitta - 1e-5
        # each cabinet's normal points at the axis from its centre
        centres = layout.cabinets.centers()[idx[keep]]
        to_axis = -centres[:, :2] / np.linalg.norm(centres[:, :2], axis=1, keepdims=True)
        assert np.allclose(normals[idx[keep]][:, :2], to_axis, atol=1e-9)
        assert np.allclose(normals[idx[keep]][:, 2], 0, atol=1e-12)
        assert p[:, 2].min() > 0 and p[:, 2].max() < 3.0


def test_ceiling_pixels_face_down() -> None:
    stage = Stage.open(STAGES / "demo.yaml")
    px = stage.canvas_pixels("ceiling")
    assert np.allclose(px.normals[px.valid], [0, 0, -1], atol=1e-6)
    assert np.allclose(px.positions[px.valid][:, 2], 3.6, atol=1e-6)


def test_tilted_ceiling_faces_down_and_away_from_the_wall() -> None:
    stage = Stage.open(STAGES / "large_volume.yaml")
    sec = next(i for i, s in enumerate(stage.project.sections) if s.kind == "ceiling")
    normals = stage.layout.cabinets.normals()[np.asarray(stage.layout.cabinets.section) == sec]
    tilt = math.radians(5)
    assert np.allclose(normals, [0, -math.sin(tilt), -math.cos(tilt)], atol=1e-9)


def test_mesh_section_from_obj(tmp_path: Path) -> None:
    # two 0.5 m quads side by side in the plane y = 2, facing -Y; vertices bl, br, tr, tl (CCW from the front)
    (tmp_path / "wall.obj").write_text(
        "# two cabinets\nv 0 2 0\nv 0.5 2 0\nv 0.5 2 0.5\nv 0 2 0.5\nv 1.0 2 0\nv 1.0 2 0.5\n"
        "f 1 2 3 4\nf 2/1 5/1 6/1 3/1\n")
    (tmp_path / "p.yaml").write_text(
        "name: m\nsections:\n- {kind: mesh, name: mesh, panel: unilumin-upad3-2.6, file: wall.obj}\n")
    stage = Stage.open(tmp_path / "p.yaml")
    assert stage.layout.cabinets.ids == ["mesh/f0000", "mesh/f0001"]
    assert np.allclose(stage.layout.cabinets.normals(), [0, -1, 0])
    (_idx, pos), = all_pixel_positions(stage.layout).values()
    assert pos.shape == (2, 192, 192, 3)
    assert pos[1, 0, 0] == pytest.approx([0.5 + PITCH / 2, 2, 0.5 - PITCH / 2], abs=1e-6)


def test_canvas_rotation_and_flip(flat: Stage) -> None:
    project = flat.project.model_copy(deep=True)
    from vpstage.stage.model import Canvas, MapEntry

    project.canvases = [Canvas(name="c", width=192, height=192, node="node1")]
    project.processors = []
    project.pixel_map = [MapEntry(cabinet="wall/c00r00", canvas="c", x=0, y=0, rotation=90, flip="h")]
    project.sections[0].columns = 1  # type: ignore[union-attr]
    project.sections[0].rows = 1  # type: ignore[union-attr]
    stage = Stage.from_project(project)
    base = Stage.open(STAGES / "flat_wall.yaml").canvas_pixels("main").positions[:192, :192]
    got = canvas_pixels(stage.layout, 0).positions
    # the wall is at rows 0..5 so cabinet c0r0 is 2.5 m higher here than the 1-row wall: compare x only
    expected = np.rot90(base[:, ::-1], k=-1)
    assert np.allclose(got[..., 0], expected[..., 0], atol=1e-6)
