"""Tiles of a camera view rendered by another node: the owner's canvases come out as if it had
rendered the whole view; a band that does not come back in time is rendered locally; malformed
and late bands are counted and dropped. The demo stage scaled down 8 times, the procedural demo
scene, two scene renderers on the CPU joined through the real wire codec."""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from render.node.tiles import TileExchange
from render.scene import SceneCanvasRenderer
from render.scene.loaded import LoadedAsset, load_scene
from tests.engine.helpers import node_assignment, thread_cluster
from tests.engine.test_scene_renderer import plan_frame, with_scene
from vpstage.frame_master.task_assigner import AssignerSettings, TaskAssigner
from vpstage.nodes.channel import Channel
from vpstage.nodes.codec import (
    HEADER,
    MAGIC,
    MAX_TILE_BYTES,
    VERSION,
    Kind,
    SkippableError,
    WireError,
    decode,
    decode_header,
    encode,
)
from vpstage.nodes.jobs import FrameJob, RenderQuality, SceneContent
from vpstage.nodes.messages import FrameReport, Message, Ping, TileOrder, TileResult
from vpstage.nodes.orders import OrderReader
from vpstage.nodes.spec import stage_revision
from vpstage.stage import Stage
from vpstage.stage.scaling import scaled_stage
from vpstage.timing import FrameClock

DEMO = Path(__file__).resolve().parents[2] / "configs" / "stages" / "demo.yaml"
QUALITY = RenderQuality(inner_scale=0.5)


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Stage:
    return with_scene(scaled_stage(Stage.open(DEMO), 8, tmp_path_factory.mktemp("demo8")), ["demo"])


@pytest.fixture(scope="module")
def assets(stage: Stage) -> dict[str, LoadedAsset]:
    return load_scene(stage, "cpu")


@dataclasses.dataclass
class Frame:
    owner: str
    helper: str
    jobs: Callable[[tuple[TileOrder, ...]], dict[str, FrameJob]]
    canvases: tuple[str, ...]


@pytest.fixture(scope="module")
def frame(stage: Stage) -> Frame:
    planner, _ = plan_frame(stage, QUALITY)
    assert planner.last is not None
    plan = planner.plan(planner.last.tick)
    assignment = node_assignment(stage)
    rects = plan.cameras[0].rects
    seen = {n: tuple(c for c in canvases if c in rects) for n, canvases in assignment.items()}
    owner = max(seen, key=lambda n: len(seen[n]))
    helper = next(n for n in assignment if n != owner)
    revision = stage_revision(stage.project)

    def jobs(tiles: tuple[TileOrder, ...]) -> dict[str, FrameJob]:
        return {n: OrderReader(n, stage.project, revision, 100.0, 1.0).job(
            dataclasses.replace(plan.order(canvases, 0), tiles=tiles)) for n, canvases in assignment.items()}

    return Frame(owner=owner, helper=helper, jobs=jobs, canvases=seen[owner])


def tiles(frame: Frame, indices: tuple[int, ...], count: int, wait_ns: int) -> tuple[TileOrder, ...]:
    return tuple(TileOrder(owner=frame.owner, helper=frame.helper, camera="A", asset="demo", canvases=frame.canvases,
                           index=i, count=count, wait_ns=wait_ns) for i in indices)


def render_node(renderer: SceneCanvasRenderer, job: FrameJob, again: bool = False) -> dict[str, torch.Tensor]:
    """Every scene canvas of ``job`` as its (H, W, 3) float colour (``again``: the frame once more,
    as a node renders it after a pair-buffer overflow)."""
    if again:
        renderer.begin_retry(job)
    else:
        renderer.begin_frame(job)
    out = {}
    for canvas in job.canvases:
        assert isinstance(canvas.content, SceneContent)
        colour = torch.zeros((canvas.height, canvas.width, 3))
        renderer.render_canvas(canvas, canvas.content, colour)
        out[canvas.canvas] = colour
    return out


def assert_same(got: dict[str, torch.Tensor], want: dict[str, torch.Tensor]) -> None:
    assert got.keys() == want.keys()
    for canvas in want:
        assert torch.allclose(got[canvas], want[canvas], atol=1e-5, rtol=0), canvas


def through_wire(deliver: Callable[[TileResult], None]) -> Callable[[Message], bool]:
    """A helper's link: the message encoded and decoded as the master relays it."""
    def send(message: Message) -> bool:
        decoded = decode(encode(message))
        assert isinstance(decoded, TileResult)
        deliver(decoded)
        return True
    return send


def no_link(message: Message) -> bool:
    return False


def linked_pair(stage: Stage, assets: dict[str, LoadedAsset], frame: Frame) \
        -> tuple[SceneCanvasRenderer, TileExchange, SceneCanvasRenderer, TileExchange]:
    """The owner's and the helper's scene renderers with their tile exchanges, the helper's bands
    going to the owner through the wire codec."""
    owner, helper = SceneCanvasRenderer(stage, "cpu", assets), SceneCanvasRenderer(stage, "cpu", assets)
    owner_link = TileExchange(frame.owner, no_link)
    helper_link = TileExchange(frame.helper, through_wire(owner_link.offer))
    owner.attach_tiles(owner_link)
    helper.attach_tiles(helper_link)
    return owner, owner_link, helper, helper_link


def test_tiles_from_the_other_node_compose_to_the_same_pixels(stage: Stage, assets: dict[str, LoadedAsset],
                                                              frame: Frame) -> None:
    reference = render_node(SceneCanvasRenderer(stage, "cpu", assets), frame.jobs(())[frame.owner])
    assert any(float(c.abs().sum()) > 0 for c in reference.values())
    owner, owner_link, helper, helper_link = linked_pair(stage, assets, frame)
    jobs = frame.jobs(tiles(frame, (2, 3), 4, time.monotonic_ns() + 30 * 10**9))
    helper.begin_frame(jobs[frame.helper])  # renders its bands first and sends them
    assert helper_link.snapshot() == {"rendered": 2, "sent": 2}
    assert_same(render_node(owner, jobs[frame.owner]), reference)
    assert owner_link.snapshot() == {"received": 2, "used": 2}
    assert owner.views.renders == 1


def test_a_frame_rendered_again_renders_its_views_whole_without_waiting(
        stage: Stage, assets: dict[str, LoadedAsset], frame: Frame) -> None:
    """After a pair-buffer overflow a node renders the frame again: the bands it got were used by
    the first render and the bands it rendered for others were sent, so neither node exchanges
    tiles again (the owner would wait for bands that never come)."""
    reference = render_node(SceneCanvasRenderer(stage, "cpu", assets), frame.jobs(())[frame.owner])
    owner, owner_link, helper, helper_link = linked_pair(stage, assets, frame)
    jobs = frame.jobs(tiles(frame, (2, 3), 4, time.monotonic_ns() + 5 * 10**9))
    helper.begin_frame(jobs[frame.helper])
    helper.begin_retry(jobs[frame.helper])
    assert helper_link.snapshot() == {"rendered": 2, "sent": 2}
    assert_same(render_node(owner, jobs[frame.owner]), reference)
    assert_same(render_node(owner, jobs[frame.owner], again=True), reference)
    assert owner_link.snapshot() == {"received": 2, "used": 2}
    assert owner.views.renders == 2


def test_a_late_helper_falls_back_to_local_rendering(stage: Stage, assets: dict[str, LoadedAsset],
                                                     frame: Frame) -> None:
    reference = render_node(SceneCanvasRenderer(stage, "cpu", assets), frame.jobs(())[frame.owner])
    owner = SceneCanvasRenderer(stage, "cpu", assets)
    owner_link = TileExchange(frame.owner, no_link)
    owner.attach_tiles(owner_link)
    jobs = frame.jobs(tiles(frame, (1, 2), 3, time.monotonic_ns()))  # the owner waits until now: no longer
    assert_same(render_node(owner, jobs[frame.owner]), reference)
    assert owner_link.snapshot() == {"local_fallback": 2}
    helper = SceneCanvasRenderer(stage, "cpu", assets)  # the helper's bands arrive after all
    helper.attach_tiles(TileExchange(frame.helper, through_wire(owner_link.offer)))
    helper.begin_frame(jobs[frame.helper])
    assert owner_link.snapshot() == {"local_fallback": 2, "received": 2, "late": 2}


def test_bad_bands_are_counted_and_rendered_locally(stage: Stage, assets: dict[str, LoadedAsset],
                                                    frame: Frame) -> None:
    reference = render_node(SceneCanvasRenderer(stage, "cpu", assets), frame.jobs(())[frame.owner])
    owner = SceneCanvasRenderer(stage, "cpu", assets)
    owner_link = TileExchange(frame.owner, no_link)
    owner.attach_tiles(owner_link)
    orders = tiles(frame, (1,), 2, time.monotonic_ns() + 30 * 10**9)
    jobs = frame.jobs(orders)
    pixels = np.zeros((1, 1), "<f4")
    wrong = TileResult(frame=jobs[frame.owner].frame, owner=frame.owner, helper=frame.helper, camera="A",
                       asset="demo", index=1, count=2, rect=(0, 0, 1, 1), rgb=np.zeros((1, 1, 3), "<f4").tobytes(),
                       alpha=pixels.tobytes(), depth=pixels.tobytes())
    owner_link.offer(dataclasses.replace(wrong, owner="elsewhere"))
    owner_link.offer(wrong)  # its rectangle is not band 1 of the owner's view
    assert_same(render_node(owner, jobs[frame.owner]), reference)
    assert owner_link.snapshot() == {"received": 2, "misrouted": 1, "bad": 1, "local_fallback": 1}


def test_malformed_tile_messages_are_refused_on_the_link() -> None:
    a, b = socket.socketpair()
    sender, receiver = Channel(a, "helper"), Channel(b, "master")
    try:
        good = TileResult(frame=3, owner="node1", helper="node2", camera="A", asset="demo", index=1, count=2,
                          rect=(0, 4, 2, 5), rgb=bytes(24), alpha=bytes(8), depth=bytes(8))
        short = encode(dataclasses.replace(good, rgb=bytes(20)))  # 20 bytes of rgb for 2 pixels
        with pytest.raises(WireError) as refused:
            decode(short)
        assert refused.value.reason == "bad_field"
        huge = HEADER.pack(MAGIC, VERSION, Kind.TILE, 0, MAX_TILE_BYTES + 8192)
        with pytest.raises(SkippableError) as skipped:  # over the tile limit: a reader skips it whole
            decode_header(huge)
        assert skipped.value.reason == "too_large"
        sender.send_bytes(short)
        sender.send(dataclasses.replace(good, rect=(0, 5, 2, 5), rgb=b"", alpha=b"", depth=b""))  # empty band
        sender.send(good)
        sender.send(Ping(1))
        assert receiver.recv() == good
        assert receiver.recv() == Ping(1)
        assert receiver.counters["bad_field"] == 2
    finally:
        sender.close()
        receiver.close()


def test_two_nodes_exchange_tiles_through_the_master(stage: Stage) -> None:
    """Render nodes on threads behind a real master: the assigner's orders give the other node
    bands of the owner's view; they travel helper -> master -> owner and are composed there."""
    project = stage.project.model_copy(deep=True)
    project.cluster.deadline_ms = 4000.0
    staged = Stage.from_project(project, stage.layout.base_dir)
    planner, _ = plan_frame(staged, RenderQuality(inner_scale=0.5, outer_scale=0.05))
    clock = FrameClock(project.frame_rate, deadline_ns=4 * 10**9)
    cluster = thread_cluster(staged, "render.scene:build_scene_renderer")
    try:
        cluster.start()
        clock.rebase(clock.now_ns(), first_index=0)
        plan = planner.plan(clock.tick(0))
        canvases = node_assignment(staged)
        rays = {v.node: v.rays for v in TaskAssigner(staged).loads(plan, canvases)}
        owner = max(rays, key=lambda n: rays[n])
        budget_ms = (plan.tick.deadline_ns - plan.tick.time_ns) / 1e6
        assigner = TaskAssigner(staged, AssignerSettings(prior=(1.0, 1.2 * budget_ms / rays[owner]), tiles=4,
                                                         budget_fraction=1.0, link_ms=0.0))
        tiles = assigner.assign(plan, canvases)
        assert tiles and all(t.owner == owner for t in tiles[owner])
        for node, mine in canvases.items():
            assert cluster.send(node, dataclasses.replace(plan.order(mine, clock.now_ns()), tiles=tiles.get(node, ())))
        reports: dict[str, FrameReport] = {}
        give_up = time.monotonic() + 60.0
        while len(reports) < len(canvases) and time.monotonic() < give_up:
            incoming = cluster.inbox.get(timeout=max(0.0, give_up - time.monotonic()))
            if isinstance(incoming.message, FrameReport):
                reports[incoming.node] = incoming.message
    finally:
        cluster.stop()
    given = len(tiles[owner])
    helper = tiles[owner][0].helper
    assert reports[owner].status == "fresh" and not reports[owner].errors
    assert reports[helper].tiles["rendered"] == reports[helper].tiles["sent"] == given
    assert cluster.tile_counters["relayed"] == given
    assert reports[owner].tiles["received"] == given
    assert reports[owner].tiles["used"] + reports[owner].tiles.get("local_fallback", 0) == given
    assert reports[owner].tiles["used"] >= 1
