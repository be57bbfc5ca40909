"""The tracking fields of the project file: defaults keep old files valid, mistakes are located."""

from pathlib import Path

import pytest

from tests.conftest import STAGES
from vpstage.config import ConfigError
from vpstage.stage import load_project

BASE = """name: t
sections: []
tracking:
{tracking}
cameras:
- name: A
  tracker: a
  sensor_width_mm: 24
  sensor_height_mm: 13.5
{camera}
"""


def _load(tmp_path: Path, tracking: str, camera: str = ""):  # type: ignore[no-untyped-def]
    path = tmp_path / "stage.yaml"
    path.write_text(BASE.format(tracking=tracking, camera=camera))
    return load_project(path), path


@pytest.mark.parametrize("name", ["flat_wall", "demo", "large_volume"])
def test_example_stages_stay_valid(name: str) -> None:
    project = load_project(STAGES / f"{name}.yaml").project
    assert project.tracking[0].serial_baud == 38400 and project.tracking[0].osc_map == "vp"
    assert project.cameras[0].delay_frames is None and project.cameras[0].smoothing is None


def test_new_fields_parse(tmp_path: Path) -> None:
    doc, _ = _load(tmp_path, """- name: a
  protocol: osc
  address: udp://0.0.0.0:9000
  camera_id: CamA
  osc_routes:
  - {address: "/rig/{id}/pose", args: [x_m, y_m, z_m, pan_deg, tilt_deg, roll_deg], scales: [1, 1, 1, -1, 1, 1]}""",
                   "  delay_frames: 2\n  extrapolate_ms: 15\n  smoothing: {min_cutoff_hz: 0.5}")
    source, camera = doc.project.tracking[0], doc.project.cameras[0]
    assert source.camera_id == "CamA" and source.osc_routes[0].scales == [1, 1, 1, -1, 1, 1]
    assert (camera.delay_frames, camera.extrapolate_ms, camera.smoothing.min_cutoff_hz) == (2, 15, 0.5)  # type: ignore[union-attr]


@pytest.mark.parametrize("tracking,camera,where,message", [
    ("- {name: a, protocol: osc, address: 'serial:///dev/ttyS0'}", "", "tracking[0].address", "only FreeD"),
    ("- {name: a, protocol: freed, address: 'udp://host'}", "", "tracking[0].address", "udp://HOST:PORT"),
    ("- {name: a, protocol: freed, address: 'udp://h:1', multicast_group: 239.135.1.1}", "",
     "tracking[0].multicast_group", "for OpenTrackIO"),
    ("- {name: a, protocol: osc, address: 'udp://h:1', osc_routes: [{address: /x, args: [speed]}]}", "",
     "tracking[0].osc_routes[0].args[0]", "Input should be"),
    ("- {name: a, protocol: osc, address: 'udp://h:1', osc_routes: [{address: /x, args: [x_m], scales: [1, 2]}]}",
     "", "tracking[0].osc_routes[0]", "one entry per argument"),
    ("- {name: a, protocol: freed, address: 'udp://h:1'}", "  delay_ms: 3\n  delay_frames: 1", "cameras[0]",
     "not both"),
])
def test_mistakes_are_located(tmp_path: Path, tracking: str, camera: str, where: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, tracking, camera)
    (problem,) = info.value.problems
    assert problem.format().split(": ")[1] == where and message in problem.message
    assert problem.line is not None


def test_camera_priority_and_interleave(tmp_path: Path) -> None:
    doc, _ = _load(tmp_path, "- {name: a, protocol: freed, address: 'udp://h:1'}",
                   "  priority: 5\n  interleave: {every: 2, phase: 1}")
    camera = doc.project.cameras[0]
    assert camera.priority == 5 and camera.interleave is not None
    assert (camera.interleave.every, camera.interleave.phase) == (2, 1)
    bare, _ = _load(tmp_path, "- {name: a, protocol: freed, address: 'udp://h:1'}")
    assert bare.project.cameras[0].priority is None and bare.project.cameras[0].interleave is None


@pytest.mark.parametrize("camera,where,message", [
    ("  interleave: {every: 2, phase: 2}", "cameras[0].interleave", "below every"),
    ("  interleave: {every: 1}", "cameras[0].interleave.every", "greater than or equal to 2"),
    ("  priority: 5000", "cameras[0].priority", "less than or equal to 1000"),
])
def test_bad_priority_or_interleave_is_located(tmp_path: Path, camera: str, where: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, "- {name: a, protocol: freed, address: 'udp://h:1'}", camera)
    (problem,) = info.value.problems
    assert problem.format().split(": ")[1] == where and message in problem.message
