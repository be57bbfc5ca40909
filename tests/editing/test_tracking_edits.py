"""Tracking edits: sources and camera fields as undoable Changes of the project."""

from __future__ import annotations

import pytest

from tests.conftest import STAGES
from vpstage.stage import load_project
from vpstage.stage.change import EditError
from vpstage.stage.model import Alignment, Project, TrackingSource
from vpstage.stage.tracking_edits import (
    add_tracking_source,
    build_source,
    remove_tracking_source,
    replace_tracking_source,
    update_camera,
)


@pytest.fixture
def project() -> Project:
    return load_project(STAGES / "demo.yaml").project


def test_add_replace_and_remove_sources(project: Project) -> None:
    otio = TrackingSource(name="otio", protocol="opentrackio", address="udp://127.0.0.1:55555")
    change = add_tracking_source(project, otio)
    assert project.tracking[-1].name == "sim"  # pure: nothing changed yet
    change.apply(project)
    assert [s.name for s in project.tracking] == ["sim", "otio"]
    with pytest.raises(EditError, match="already exists"):
        add_tracking_source(project, otio)
    rename = replace_tracking_source(project, "sim", project.tracking[0].model_copy(update={"name": "crane"}))
    rename.apply(project)
    assert project.cameras[0].tracker == "crane"  # the camera follows its renamed source
    with pytest.raises(EditError, match="camera A uses"):
        remove_tracking_source(project, "crane")
    removal = remove_tracking_source(project, "otio")
    removal.apply(project)
    assert [s.name for s in project.tracking] == ["crane"]
    removal.inverse().apply(project)
    rename.inverse().apply(project)
    assert [s.name for s in project.tracking] == ["sim", "otio"] and project.cameras[0].tracker == "sim"


def test_build_source_names_the_bad_field() -> None:
    with pytest.raises(EditError, match="address"):
        build_source({"name": "x", "protocol": "osc", "address": "serial:///dev/ttyUSB0"})
    with pytest.raises(EditError, match="multicast_group"):
        build_source({"name": "x", "protocol": "freed", "address": "udp://127.0.0.1:1", "multicast_group": "239.1.1.1"})


def test_update_camera_sets_one_delay_and_validates(project: Project) -> None:
    project.cameras[0] = project.cameras[0].model_copy(update={"delay_frames": 2.0})
    update_camera(project, "A", {"delay_ms": 45.0}).apply(project)
    assert (project.cameras[0].delay_ms, project.cameras[0].delay_frames) == (45.0, None)
    update_camera(project, "A", {"alignment": Alignment(yaw_deg=12.0)}).apply(project)
    assert project.cameras[0].alignment.yaw_deg == 12.0
    with pytest.raises(EditError, match="extrapolate_ms"):
        update_camera(project, "A", {"extrapolate_ms": 500.0})
    with pytest.raises(EditError, match="no camera"):
        update_camera(project, "B", {"delay_ms": 1.0})
