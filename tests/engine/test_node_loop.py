"""The frame master with render nodes on threads of this process (real sockets, real clock): frames
flow, a node that goes away fails over to the spare and comes home, strangers are refused, and a
node refuses bad orders without stopping."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable
from fractions import Fraction

import numpy as np
import pytest

from render.node.runtime import NodeRuntime
from tests.engine.helpers import thread_loop, tiny_stage, without_spare
from tests.waiting import wait_for
from vpstage.frame_master import FrameLoop, FrameStats, PatternSource
from vpstage.nodes.channel import Channel, ChannelClosed
from vpstage.nodes.clock_sync import boot_id
from vpstage.nodes.codec import HEADER, MAGIC, Kind, encode
from vpstage.nodes.frame_lock import Due
from vpstage.nodes.messages import Configure, FrameOrder, FrameReport, Hello, OutputSettings, Stop
from vpstage.patterns import PatternSpec, read_frame_counter
from vpstage.stage import Stage
from vpstage.timing import FrameClock, ManualTimeSource, TimeSource, count_to_ndi_100ns


def test_frames_flow_and_previews_stay_within_their_budget() -> None:
    stage = without_spare(tiny_stage())
    loop = thread_loop(stage, PatternSource(stage, PatternSpec(name="sync")))
    loop.previews.want({"front": 96})
    closed: list[FrameStats] = []
    loop.events.frame_presented.connect(closed.append)
    try:
        loop.run(40)
        report = loop.report()
    finally:
        loop.close()
    assert report["frames"] == 40 and [s.frame for s in closed] == list(range(40))
    for node in ("n1", "n2"):
        totals = report["nodes"][node]
        assert totals["frames"] == 40 + report["skipped"] and totals["dropped"] <= totals["frames"]
    thumbnail = loop.previews.latest("front")
    assert thumbnail is not None and thumbnail.image.shape == (32, 96, 4) and thumbnail.scale == 2.0
    counter = read_frame_counter(np.repeat(np.repeat(thumbnail.image, 2, axis=0), 2, axis=1))
    assert counter == thumbnail.frame  # the node's picture of that very frame
    previews = report["previews"]
    assert 0 < previews["bytes_received"] <= previews["budget_bytes"]
    assert previews["link_bytes_received"] < previews["budget_bytes"] + 40 * 3 * 4096  # reports are small
    assert set(report["clock_sync"]) == {"n1", "n2"} and report["cpu"]["node_ms_per_node_frame"] > 0


def test_a_node_that_goes_away_fails_over_to_the_spare_and_comes_home() -> None:
    stage = tiny_stage()
    loop = thread_loop(stage, PatternSource(stage, PatternSpec(name="sync")), restart_retry_s=0.1)
    downs: list[tuple[str, str]] = []
    loop.events.node_down.connect(lambda node, why: downs.append((node, why)))
    owners: list[dict[str, tuple[str, ...]]] = []

    def on_frame(stats: FrameStats) -> None:
        owners.append({n.node: n.canvases for n in stats.nodes})
        if stats.frame == 10:
            process = loop.cluster.process("n1")
            assert process is not None
            process.kill()

    loop.events.frame_presented.connect(on_frame)
    try:
        loop.cluster.start()
        while not (downs and owners and owners[-1].get("n1") == ("front",) and loop.failover.state["n1"] == "up"):
            loop.run(10)
            assert len(owners) < 900, "n1 never came back"
        loop.run(10)
    finally:
        loop.close()
    assert downs[0][0] == "n1" and "ended" in downs[0][1]
    outage, = loop.failover.outages
    assert outage.covered_by == "n3" and outage.back_ns is not None and outage.recovery_ms is not None
    assert owners[-1]["n1"] == ("front",) and owners[-1]["n3"] == ()


def test_the_master_refuses_strangers_and_keeps_serving() -> None:
    stage = without_spare(tiny_stage())
    loop = thread_loop(stage, PatternSource(stage, PatternSpec(name="grid")))
    try:
        loop.cluster.start()
        host, port = loop.cluster.address.rsplit(":", 1)
        attempts = [Hello(node="n1", generation=1, token="wrong", pid=1, host="x"),
                    Hello(node="n9", generation=1, token=loop.cluster.token, pid=1, host="x"),
                    Hello(node="n1", generation=0, token=loop.cluster.token, pid=1, host="x")]
        for hello in attempts:
            with socket.create_connection((host, int(port))) as sock:
                sock.sendall(encode(hello))
                sock.settimeout(5)
                assert sock.recv(1) == b""  # closed without a word
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
            sock.settimeout(5)
            assert sock.recv(1) == b""
        loop.run(5)
        counters = loop.cluster.channel_counters()
    finally:
        loop.close()
    assert (counters["bad_token"], counters["unknown_node"], counters["stale_generation"]) == (1, 1, 1)
    assert counters["no_hello"] == 1 and loop.history.frames == 5


def _raw(kind: int, payload: bytes, version: int = 1) -> bytes:
    return HEADER.pack(MAGIC, version, kind, 0, len(payload)) + payload


def built_node(stage: Stage, time_source: TimeSource | None = None) -> tuple[Channel, NodeRuntime]:
    """Node n1 of ``stage`` on the CPU without outputs, built, linked to the returned master end
    of a socket pair (not yet running)."""
    master_sock, node_sock = socket.socketpair()
    configure = Configure(node="n1", device="cpu", project_json=stage.project.model_dump_json(),
                          base_dir=str(stage.layout.base_dir), scene_renderer=None,
                          outputs=OutputSettings(kind="none"), far_m=100.0, dod_margin_px=1.0, boot_id=boot_id())
    runtime = NodeRuntime(Channel(node_sock, "node"), configure, time_source)
    runtime.build()
    return Channel(master_sock, "master"), runtime


def test_a_node_refuses_bad_orders_and_carries_on() -> None:
    stage = tiny_stage()
    master, runtime = built_node(stage)
    thread = threading.Thread(target=runtime.run, daemon=True)
    thread.start()
    clock = FrameClock(Fraction(30))
    source = PatternSource(stage, PatternSpec(name="sync"))
    reports: list[FrameReport] = []

    def send(index: int) -> FrameOrder:
        order = source.plan(clock.tick(index)).order(("front",), 0)
        master.send(order)
        return order

    def collect_until(frame: int) -> bool:
        while not any(r.frame == frame for r in reports):
            try:
                message = master.recv()
            except ChannelClosed:
                return False
            if isinstance(message, FrameReport):
                reports.append(message)
        return True

    try:
        clock.rebase(clock.now_ns() + 50_000_000)
        for index in range(3):
            send(index)
        master.send_bytes(_raw(Kind.FRAME, b"\x81\xa5frame\x01"))                   # fields missing
        master.send_bytes(_raw(Kind.FRAME, encode(Stop())[HEADER.size:], version=7))  # another version
        master.send_bytes(_raw(Kind.FRAME, b"\xc1"))                                # not MessagePack
        send(1)                                                                      # out of order
        send(2)                                                                      # a duplicate
        for index in range(3, 6):
            send(index)
        assert wait_for(lambda: collect_until(5), 20)
    finally:
        master.send(Stop("test over"))
        thread.join(10)
        master.close()
    assert not thread.is_alive() and runtime.fatal is None
    refused = reports[-1].refused
    assert refused.get("bad_field") == 1 and refused.get("bad_version") == 1 and refused.get("bad_payload") == 1
    assert refused.get("out_of_order") == 2
    assert [r.frame for r in reports] == [0, 1, 2, 3, 4, 5]


def test_a_node_prepares_each_present_before_its_deadline() -> None:
    """The present thread opens (or closes) a frame's outputs before the frame's deadline, so
    after the deadline it only sends (the node's share of the skew). Node time is manual: it
    stands still until the present thread sleeps to a deadline."""
    stage = tiny_stage()
    master, runtime = built_node(stage, ManualTimeSource())
    prepared: list[tuple[int, tuple[str, ...]]] = []  # (node time, canvases) of each reconcile
    reconcile = runtime.outputs.reconcile

    def noted(canvases: Iterable[str], now_s: float | None = None) -> dict[str, str]:
        wanted = tuple(canvases)
        prepared.append((runtime.time.now_ns(), wanted))
        return reconcile(wanted, now_s)

    runtime.outputs.reconcile = noted  # type: ignore[method-assign]
    thread = threading.Thread(target=runtime.run, daemon=True)
    thread.start()
    clock = FrameClock(Fraction(30))
    source = PatternSource(stage, PatternSpec(name="sync"))
    orders = [source.plan(clock.tick(index)).order(("front",), 0) for index in range(3)]
    reports: list[FrameReport] = []
    try:
        for order in orders:
            master.send(order)
        while len(reports) < 3:
            message = master.recv()
            if isinstance(message, FrameReport):
                reports.append(message)
    finally:
        master.send(Stop("test over"))
        thread.join(10)
        master.close()
    assert [r.frame for r in reports] == [0, 1, 2]
    deadlines = [o.deadline_ns for o in orders]  # the same clock: master and node share this host
    assert len(prepared) >= 3 and all(canvases == ("front",) for _, canvases in prepared)
    for deadline in deadlines:  # each frame's outputs were seen to before node time reached its deadline
        assert any(at < deadline for at, _ in prepared), (prepared, deadlines)
    assert [at for at, _ in prepared[:3]] == sorted(at for at, _ in prepared[:3])
    assert prepared[1][0] >= deadlines[0] and prepared[1][0] < deadlines[1]  # after frame 0, before frame 1


def test_a_repeat_carries_the_timecode_of_the_pictures_it_shows_again() -> None:
    """A frame whose pictures were not ready in time sends the previous pictures again with their
    own timecode: a receiver (a recorder, the take review) reads which frame each picture is."""
    stage = tiny_stage()
    master, runtime = built_node(stage)
    sent: list[tuple[str, int, int | None]] = []  # (canvas, timecode, counter strip)

    def noted(canvas: str, image: np.ndarray, timecode_100ns: int) -> str | None:
        sent.append((canvas, timecode_100ns, read_frame_counter(image)))
        return None

    runtime.outputs.send = noted  # type: ignore[method-assign]
    clock = FrameClock(Fraction(30))
    source = PatternSource(stage, PatternSpec(name="sync"))
    orders = [source.plan(clock.tick(index)).order(("front",), 0) for index in (4, 5)]
    assert runtime.renderer is not None
    try:
        rendered = runtime.renderer.render(runtime.orders.job(orders[0]), None)
        for order, result in ((orders[0], rendered), (orders[1], None)):
            due = Due(order=order, deadline_ns=order.deadline_ns, outcome="fresh" if result else "repeat",
                      result=result, render_ms=1.0)
            runtime._present(due, runtime._prepare(order))
    finally:
        runtime._close()
        master.close()
    fourth = count_to_ndi_100ns(clock.tick(4).count, Fraction(30))
    assert [(canvas, timecode) for canvas, timecode, _ in sent] == [("front", fourth), ("front", fourth)]
    assert sent[0][2] in (None, 4) and sent[1][2] == sent[0][2]


@pytest.mark.parametrize("backend", ["threads"])
def test_a_stalled_node_is_restarted(backend: str) -> None:
    stage = without_spare(tiny_stage())
    loop: FrameLoop = thread_loop(stage, PatternSource(stage, PatternSpec(name="black")), stall_frames=3,
                                  first_answer_grace_s=0.0)
    downs: list[tuple[str, str]] = []
    loop.events.node_down.connect(lambda node, why: downs.append((node, why)))
    try:
        loop.cluster.start()
        real_send = loop.cluster.send

        def drop_n2(node: str, message: object) -> bool:
            if node == "n2" and isinstance(message, FrameOrder) and not downs:
                return True  # "sent", but n2 never sees it: it stays silent
            return real_send(node, message)  # type: ignore[arg-type]

        loop.cluster.send = drop_n2  # type: ignore[method-assign]
        loop.run(12)
    finally:
        loop.close()
    assert downs and downs[0][0] == "n2" and "stalled" in downs[0][1]


def test_a_spare_taking_over_gets_the_first_answer_grace() -> None:
    """A spare given a down node's canvases opens their outputs and buffers before its next report:
    on a loaded host that outlasts ``stall_frames``. It is not killed for it (nobody would cover
    the canvases then); its silence is judged by the first-answer grace, as a new node's is."""
    stage = tiny_stage()
    loop = thread_loop(stage, PatternSource(stage, PatternSpec(name="sync")), stall_frames=3,
                       first_answer_grace_s=30.0)
    downs: list[tuple[str, str]] = []
    loop.events.node_down.connect(lambda node, why: downs.append((node, why)))
    covered: list[int] = []
    silenced: list[int] = []

    def on_frame(stats: FrameStats) -> None:
        covered.extend(stats.frame for n in stats.nodes if n.node == "n3" and n.canvases and not n.dropped)
        if stats.frame == 5:
            process = loop.cluster.process("n1")
            assert process is not None
            process.kill()

    real_send, real_status = loop.cluster.send, loop.cluster.status

    def slow_takeover(node: str, message: object) -> bool:
        if node == "n3" and isinstance(message, FrameOrder) and message.canvases and len(silenced) < 8:
            silenced.append(message.frame)
            return True  # "sent", but the spare stays silent for its first 8 orders with a canvas
        return real_send(node, message)  # type: ignore[arg-type]

    def slow_restart(node: str) -> tuple[str, str]:
        if node == "n1" and downs and not covered:
            return "starting", "launching"  # n1 stays away until the spare has covered for it
        return real_status(node)

    loop.events.frame_presented.connect(on_frame)
    try:
        loop.cluster.start()
        loop.cluster.send = slow_takeover  # type: ignore[method-assign]
        loop.cluster.status = slow_restart  # type: ignore[assignment,method-assign]
        loop.run(60)
    finally:
        loop.close()
    assert [node for node, _ in downs] == ["n1"], downs
    assert len(silenced) == 8 and covered and covered[0] > silenced[-1]


def test_nodes_say_what_they_are_doing_while_they_start() -> None:
    stage = without_spare(tiny_stage())
    loop = thread_loop(stage, PatternSource(stage, PatternSpec(name="grid")))
    seen: set[str] = set()
    original = loop.cluster._note  # every message a node sends while it builds passes here

    def note(slot: object, message: object) -> None:
        original(slot, message)  # type: ignore[arg-type]
        seen.add(getattr(slot, "step", ""))

    loop.cluster._note = note  # type: ignore[method-assign]
    try:
        loop.cluster.start()
        progress = loop.cluster.progress()
    finally:
        loop.close()
    assert progress == {"n1": ("ready", "ready"), "n2": ("ready", "ready")}
    assert {"starting the device", "drawing test patterns"} <= seen


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without CUDA (gpu: 0 must fail)")
def test_a_node_that_cannot_start_ends_the_run_with_an_error() -> None:
    stage = without_spare(tiny_stage())
    project = stage.project.model_copy(deep=True)
    project.nodes[0].gpu = 0  # this machine has no CUDA device: the node cannot build itself
    stage = Stage.from_project(project, stage.layout.base_dir)
    loop = thread_loop(stage, PatternSource(stage, PatternSpec(name="grid")))
    reasons: list[str] = []
    loop.events.stopped.connect(reasons.append)
    try:
        loop.start(5)
        assert loop.join(60)
    finally:
        loop.close()
    assert loop.error is not None and "n1" in loop.error and reasons == [loop.error]
