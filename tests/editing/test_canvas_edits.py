"""Canvas and processor edits (add, remove with unmapping, resize, rename, re-route) and what
auto-layout needs when the cabinets do not fit."""

from __future__ import annotations

import pytest

from vpstage.stage.canvas_edits import (
    add_canvas,
    add_canvases_and_layout,
    add_processor,
    cabinets_on_canvas,
    layout_advice,
    new_canvas,
    new_processor,
    remove_canvas,
    remove_processor,
    update_canvas,
    update_processor,
)
from vpstage.stage.change import EditError
from vpstage.stage.document import StageDocument
from vpstage.stage.edits import add_section, new_section_at
from vpstage.stage.map_edits import auto_layout_change
from vpstage.stage.model import Videohub, VideohubRoute
from vpstage.stage.project_io import dump_project_yaml


def _errors(doc: StageDocument) -> list[str]:
    return [p.format() for p in doc.validate() if p.severity == "error"]


def _grow_demo(doc: StageDocument) -> None:
    """A fifth section nobody mapped: 24 cabinets that do not fit the four full canvases."""
    doc.apply(add_section(doc.project, new_section_at(doc.project, doc.catalog, "absen-pl3.9-pro", (0.0, -4.0))))


def test_a_new_canvas_is_like_the_last_on_the_quietest_node(demo_doc: StageDocument) -> None:
    canvas = new_canvas(demo_doc.project)
    assert (canvas.name, canvas.width, canvas.height, canvas.transport) == ("canvas", 1920, 1080, "ndi")
    assert canvas.node == "node1"  # node1 and node2 carry two canvases each: the first wins
    assert canvas.processor is None  # every processor's one input is taken
    demo_doc.apply(update_processor(demo_doc.project, "proc-left", {"inputs": 2}))
    routed = new_canvas(demo_doc.project, like="ceiling")
    assert (routed.processor, routed.input) == ("proc-left", 1)
    demo_doc.apply(add_canvas(demo_doc.project, routed))
    assert new_canvas(demo_doc.project).name == "canvas-2"
    assert new_canvas(demo_doc.project).node == "node2"  # node1 carries three now
    with pytest.raises(EditError, match="already exists"):
        add_canvas(demo_doc.project, routed)
    assert _errors(demo_doc) == []


def test_removing_a_canvas_with_cabinets_needs_unmap_and_is_one_change(demo_doc: StageDocument) -> None:
    before = dump_project_yaml(demo_doc.project)
    carried = cabinets_on_canvas(demo_doc.layout, "ceiling")
    assert len(carried) == 24
    with pytest.raises(EditError, match="carries 24 cabinet"):
        remove_canvas(demo_doc.project, demo_doc.layout, "ceiling")
    change = remove_canvas(demo_doc.project, demo_doc.layout, "ceiling", unmap=True)
    demo_doc.apply(change)
    assert [c.name for c in demo_doc.project.canvases] == ["wall-left", "wall-centre", "wall-right"]
    assert all(e.canvas != "ceiling" for e in demo_doc.project.pixel_map)
    assert set(carried) == {demo_doc.layout.cabinets.ids[i] for i in range(len(demo_doc.layout.cabinets))
                            if demo_doc.layout.pixel_map.canvas[i] < 0}
    assert sum("has no pixel-map entry" in e for e in _errors(demo_doc)) == 24
    demo_doc.apply(change.inverse())
    assert dump_project_yaml(demo_doc.project) == before


def test_removing_an_empty_canvas_takes_its_router_route_along(demo_doc: StageDocument) -> None:
    canvas = new_canvas(demo_doc.project)
    demo_doc.apply(add_canvas(demo_doc.project, canvas))
    demo_doc.project.videohub = Videohub(address="10.0.0.9", routes=[VideohubRoute(canvas=canvas.name, input=0,
                                                                                   output=1)])
    demo_doc.apply(remove_canvas(demo_doc.project, demo_doc.layout, canvas.name))
    assert demo_doc.project.videohub is not None and demo_doc.project.videohub.routes == []


def test_rename_and_resize_a_canvas(demo_doc: StageDocument) -> None:
    demo_doc.project.videohub = Videohub(address="10.0.0.9", routes=[VideohubRoute(canvas="ceiling", input=3,
                                                                                   output=3)])
    demo_doc.apply(update_canvas(demo_doc.project, "ceiling", {"name": "roof"}))
    assert [e.canvas for e in demo_doc.project.pixel_map][-1] == "roof"
    assert demo_doc.project.videohub is not None and demo_doc.project.videohub.routes[0].canvas == "roof"
    assert len(cabinets_on_canvas(demo_doc.layout, "roof")) == 24 and _errors(demo_doc) == []
    with pytest.raises(EditError, match="already exists"):
        update_canvas(demo_doc.project, "roof", {"name": "wall-left"})
    with pytest.raises(EditError, match="canvas roof: width"):
        update_canvas(demo_doc.project, "roof", {"width": 0})
    demo_doc.apply(update_canvas(demo_doc.project, "wall-left", {"width": 1000}))  # smaller: cabinets stick out
    assert any("lies outside canvas wall-left" in e for e in _errors(demo_doc))
    demo_doc.apply(update_canvas(demo_doc.project, "wall-left", {"processor": ""}))
    assert demo_doc.project.canvases[0].processor is None


def test_processors_add_rename_remove(demo_doc: StageDocument) -> None:
    processor = new_processor(demo_doc.project)
    assert processor.name == "processor" and processor.ports == 8 and processor.model == "Brompton Tessera S8"
    demo_doc.apply(add_processor(demo_doc.project, processor))
    with pytest.raises(EditError, match="already exists"):
        add_processor(demo_doc.project, processor)
    demo_doc.apply(update_processor(demo_doc.project, "proc-left", {"name": "left"}))
    assert demo_doc.project.canvases[0].processor == "left" and _errors(demo_doc) == []
    with pytest.raises(EditError, match="ports"):
        update_processor(demo_doc.project, "left", {"ports": 0})
    demo_doc.apply(remove_processor(demo_doc.project, "left"))
    assert demo_doc.project.canvases[0].processor is None
    assert all(e.port is None for e in demo_doc.project.pixel_map if e.canvas == "wall-left")
    assert _errors(demo_doc) == []  # a canvas without a processor and entries without ports: valid


def test_layout_advice_counts_the_canvases_auto_layout_needs(demo_doc: StageDocument) -> None:
    assert layout_advice(demo_doc.layout).fits
    _grow_demo(demo_doc)
    with pytest.raises(EditError, match="do not fit the canvases"):
        auto_layout_change(demo_doc.project, demo_doc.layout)
    advice = layout_advice(demo_doc.layout)
    assert not advice.fits and advice.canvases_needed == 1 and advice.like == (1920, 1080)
    assert advice.describe() == "the cabinets need 1 more canvas of 1920×1080"
    before = dump_project_yaml(demo_doc.project)
    change = add_canvases_and_layout(demo_doc.project, demo_doc.layout, advice.canvases_needed)
    demo_doc.apply(change)
    assert len(demo_doc.project.canvases) == 5 and _errors(demo_doc) == []
    assert len(cabinets_on_canvas(demo_doc.layout, "canvas")) == 24
    demo_doc.apply(change.inverse())  # one step back: no canvas, the old map
    assert dump_project_yaml(demo_doc.project) == before


def test_advice_when_more_canvases_do_not_help(flat_doc: StageDocument) -> None:
    flat_doc.apply(update_canvas(flat_doc.project, "main", {"width": 100, "height": 100}))
    advice = layout_advice(flat_doc.layout)
    assert not advice.fits and advice.canvases_needed == 0
    assert "does not fit canvas main (100x100)" in advice.describe()
    with pytest.raises(EditError, match="do not fit even with 2"):
        add_canvases_and_layout(flat_doc.project, flat_doc.layout, 2)
