"""Problems grouped for the operator (one row per rule and subject, with its fixes), and problem
locations as a technician reads them (``demo.yaml:12``, ``unsaved project:12``)."""

from __future__ import annotations

from tests.conftest import STAGES
from vpstage.config import Problem
from vpstage.stage.canvas_edits import layout_advice, update_canvas
from vpstage.stage.document import UNSAVED, StageDocument
from vpstage.stage.edits import add_section, new_section_at
from vpstage.stage.map_edits import MapPlacement, move_map_rects
from vpstage.stage.problem_groups import classify, group_problems, has_map_problems


def _grow_demo(doc: StageDocument) -> None:
    doc.apply(add_section(doc.project, new_section_at(doc.project, doc.catalog, "absen-pl3.9-pro", (0.0, -4.0))))


def test_unmapped_cabinets_of_one_section_are_one_group_with_fixes(demo_doc: StageDocument) -> None:
    _grow_demo(demo_doc)
    problems = demo_doc.validate()
    assert len(problems) == 24 and all("has no pixel-map entry" in p.message for p in problems)
    groups = group_problems(problems, demo_doc.project)
    assert len(groups) == 1
    group = groups[0]
    assert (group.rule, group.subject, group.count, group.severity) == ("unmapped", "wall", 24, "error")
    assert group.summary == "24 cabinets of section wall have no pixel-map entry"
    assert [f.label for f in group.fixes] == ["Auto-layout", "Add canvas"]
    assert group.members == tuple(range(24))
    advised = group_problems(problems, demo_doc.project, layout_advice(demo_doc.layout))[0]
    assert [f.kind for f in advised.fixes] == ["add_canvas", "auto_layout"]  # auto-layout alone is refused
    assert advised.hint == "the cabinets need 1 more canvas of 1920×1080"
    assert has_map_problems(groups)


def test_groups_keep_rules_and_subjects_apart(demo_doc: StageDocument) -> None:
    moves = {"wall-left/c00r05": MapPlacement("wall-left", 0, 0), "wall-left/c01r05": MapPlacement("wall-left", 64, 0),
             "wall-right/c00r05": MapPlacement("wall-right", 0, 0)}
    demo_doc.apply(move_map_rects(demo_doc.project, demo_doc.layout, moves))
    demo_doc.apply(update_canvas(demo_doc.project, "ceiling", {"node": "node9"}))
    problems = demo_doc.validate()
    groups = group_problems(problems, demo_doc.project)
    by_subject = {(g.rule, g.subject): g for g in groups}
    left = by_subject[("overlap", "wall-left")]  # c00r05 on c00r00; c01r05 on c00r00, c01r00 and c00r05
    assert left.count == 4 and left.summary == "4 overlapping pairs of cabinets on canvas wall-left"
    right = by_subject[("overlap", "wall-right")]
    assert right.count == 1 and right.summary == problems[right.members[0]].message  # one: its own words
    own = [g for g in groups if g.rule == ""]
    assert len(own) == 1 and "has no node" in own[0].summary and own[0].fixes == ()
    assert sorted(k for g in groups for k in g.members) == list(range(len(problems)))


def test_classify_reads_canvas_and_processor_rules(demo_doc: StageDocument) -> None:
    project = demo_doc.project
    outside = Problem(path=("pixel_map", 3),
                      message="cabinet wall-left/c00r05 at (1900, 0) size 128x128 lies outside canvas "
                              "wall-left (1920x1080)")
    port = Problem(path=("processors", 0),
                   message="port 2 of proc-left carries 600000 px, over its capacity of 525000 px at 30 Hz, "
                           "8-bit")
    assert classify(outside, project) == ("outside_canvas", "wall-left")
    assert classify(port, project) == ("port_overload", "proc-left")
    assert classify(Problem(path=("nodes", 0), message="node 'x' has no canvases"), project) is None
    groups = group_problems([outside, port, port], project)
    assert [g.fixes[-1].label for g in groups] == ["Resize canvas", "Processor settings"]
    assert groups[1].summary == "2 ports of proc-left carry more pixels than they can"


def test_problem_locations_name_the_file_or_say_unsaved(demo_doc: StageDocument) -> None:
    demo_doc.apply(move_map_rects(demo_doc.project, demo_doc.layout,
                                  {"wall-left/c00r05": MapPlacement("wall-left", 0, 0)}))
    problem = demo_doc.validate()[0]
    assert problem.file == "demo.yaml" and problem.format().startswith(f"demo.yaml:{problem.line}: pixel_map[")
    template = StageDocument.open(STAGES / "demo.yaml", untitled=True)
    assert template.display_name == UNSAVED
    template.apply(update_canvas(template.project, "ceiling", {"node": "node9"}))
    problem = template.validate()[0]
    assert problem.file == UNSAVED and problem.format().startswith(f"unsaved project:{problem.line}: canvases[3]")
    assert all("<" not in p.format() for p in template.problems)  # no <memory>, no <untitled>
