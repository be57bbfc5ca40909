"""Frame lock under a fake clock: a node's deadlines, misses and repeats (``FrameLock``), the
master's accounts of late / dropped frames and skew (``frame_stats``), and nodes on hosts whose
clocks differ from the master's (``ClockSync``)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from tests.engine.helpers import MS
from vpstage.frame_master.accounts import FrameAccounts, OpenFrame, frame_stats
from vpstage.frame_master.plan import FramePlan
from vpstage.nodes.clock_sync import ClockSync
from vpstage.nodes.frame_lock import FrameLock
from vpstage.nodes.messages import CameraOrder, FrameOrder, FrameReport
from vpstage.patterns import PatternSpec
from vpstage.timing import FrameClock, ManualTimeSource

PERIOD = 16_666_666


def order(frame: int, deadline_ns: int, canvases: tuple[str, ...] = ("front",)) -> FrameOrder:
    return FrameOrder(frame=frame, count=frame, time_ns=deadline_ns - PERIOD, deadline_ns=deadline_ns, sent_ns=0,
                      canvases=canvases, patterns={})


def test_a_frame_is_presented_at_its_deadline_fresh_when_ready_in_time() -> None:
    lock: FrameLock[str] = FrameLock()
    assert lock.schedule(order(0, 100 * MS), 100 * MS)
    entry = lock.next_to_render(now_ns=84 * MS)
    assert entry is not None and entry.order.frame == 0
    assert lock.rendered(0, "pictures 0", finished_ns=95 * MS, render_ms=11.0)
    assert lock.due(99 * MS, have_previous=False) is None  # never before the deadline: no node runs ahead
    due = lock.due(100 * MS, have_previous=False)
    assert due is not None and (due.outcome, due.result, due.render_ms) == ("fresh", "pictures 0", 11.0)


def test_a_late_render_is_refused_and_the_previous_pictures_repeat() -> None:
    lock: FrameLock[str] = FrameLock()
    lock.schedule(order(0, 100 * MS), 100 * MS)
    lock.schedule(order(1, 117 * MS), 117 * MS)
    lock.next_to_render(99 * MS)  # frame 1 is the newest: frame 0 is skipped
    assert lock.counters.skipped == 1
    first = lock.due(100 * MS, have_previous=False)
    assert first is not None and first.outcome == "black"  # nothing was ever rendered
    assert not lock.rendered(1, "too late", finished_ns=118 * MS, render_ms=19.0)  # past its deadline: refused
    second = lock.due(118 * MS, have_previous=True)
    assert second is not None and second.outcome == "repeat" and second.result is None
    assert lock.counters.late == 1 and lock.take_late_renders() == ((1, 19.0),)
    assert lock.take_late_renders() == ()


def test_duplicate_and_out_of_order_orders_are_refused() -> None:
    lock: FrameLock[str] = FrameLock()
    assert lock.schedule(order(5, 100 * MS), 100 * MS)
    assert not lock.schedule(order(5, 100 * MS), 100 * MS)
    assert not lock.schedule(order(3, 90 * MS), 90 * MS)
    upcoming = lock.upcoming()
    assert lock.counters.out_of_order == 2 and upcoming is not None and upcoming.deadline_ns == 100 * MS


def test_the_upcoming_present_is_the_oldest_frame_until_it_is_due() -> None:
    """The present thread prepares the oldest frame's present before its deadline."""
    lock: FrameLock[str] = FrameLock()
    assert lock.upcoming() is None
    lock.schedule(order(0, 100 * MS, ("front", "side")), 100 * MS)
    lock.schedule(order(1, 117 * MS), 117 * MS)
    upcoming = lock.upcoming()
    assert upcoming is not None and (upcoming.order.frame, upcoming.order.canvases) == (0, ("front", "side"))
    assert lock.due(99 * MS, have_previous=False) is None and lock.upcoming() is upcoming
    lock.due(100 * MS, have_previous=False)
    following = lock.upcoming()
    assert following is not None and (following.order.frame, following.deadline_ns) == (1, 117 * MS)


def test_a_busy_render_thread_catches_up_with_the_newest_order() -> None:
    lock: FrameLock[str] = FrameLock()
    for frame in range(4):
        lock.schedule(order(frame, (100 + 17 * frame) * MS), (100 + 17 * frame) * MS)
    entry = lock.next_to_render(now_ns=120 * MS)  # frames 0 and 1 are past their deadlines
    assert entry is not None and entry.order.frame == 3 and lock.counters.skipped == 3
    assert lock.next_to_render(now_ns=120 * MS) is None  # nothing more to start


def report(node_frame: int, present_ns: int, status: str = "fresh", **extra: object) -> FrameReport:
    fields: dict[str, object] = {"frame": node_frame, "status": status, "present_ns": present_ns, "present_ms": 0.1,
                                 "render_ms": 5.0 if status == "fresh" else math.nan, "gpu_ms": math.nan,
                                 "cpu_ms": 1.0}
    fields.update(extra)
    return FrameReport(**fields)  # type: ignore[arg-type]


def open_frame(clock: FrameClock, index: int, sent: dict[str, tuple[str, ...]],
               groups: dict[str, tuple[str, ...]] | None = None, cameras: tuple[CameraOrder, ...] = ()) -> OpenFrame:
    tick = clock.tick(index)
    plan = FramePlan(tick=tick, patterns={c: PatternSpec(name="sync") for canvases in sent.values() for c in canvases},
                     cameras=cameras)
    return OpenFrame(plan=plan, groups=groups or dict(sent), sent=dict(sent), close_at_ns=tick.deadline_ns + 3 * PERIOD,
                     plan_ms=0.1, send_ms=0.05, skipped_before=0)


def test_accounts_close_frames_in_order_when_every_node_reported_or_the_grace_ran_out() -> None:
    time = ManualTimeSource(10**12)
    clock = FrameClock(Fraction(60), time_source=time)
    accounts = FrameAccounts()
    sent = {"n1": ("front",), "n2": ("side",)}
    f0, f1 = open_frame(clock, 0, sent), open_frame(clock, 1, sent)
    accounts.open(f0)
    accounts.open(f1)
    deadline0 = f0.plan.tick.deadline_ns
    assert accounts.offer("n1", report(1, deadline0 + PERIOD))
    assert accounts.offer("n2", report(1, deadline0 + PERIOD))
    assert accounts.close_due(deadline0 + PERIOD) == []  # frame 1 is complete but frame 0 is not
    assert accounts.offer("n1", report(0, deadline0 + 100_000))
    assert not accounts.offer("n3", report(0, deadline0))  # never sent that frame: stale
    assert not accounts.offer("n1", report(0, deadline0))  # a second report for the same frame
    assert accounts.close_due(deadline0 + PERIOD) == []
    done = accounts.close_due(f0.close_at_ns)  # n2 never reported frame 0
    assert [f.frame for f in done] == [0, 1]
    states = {"n1": "up", "n2": "up", "n3": "up"}
    stats0 = frame_stats(done[0], states)
    by_node = {n.node: n for n in stats0.nodes}
    assert not by_node["n1"].late and not by_node["n1"].dropped and by_node["n1"].render_ms == 5.0
    assert by_node["n2"].late and by_node["n2"].dropped and math.isnan(by_node["n2"].render_ms)
    assert not by_node["n3"].late and not by_node["n3"].dropped  # a spare with nothing to do
    assert stats0.late == 1 and stats0.dropped == 1


def test_skew_is_the_spread_of_present_times_and_repeats_count_as_late() -> None:
    clock = FrameClock(Fraction(60), time_source=ManualTimeSource(10**12))
    frame = open_frame(clock, 0, {"n1": ("front",), "n2": ("side",)})
    deadline = frame.plan.tick.deadline_ns
    frame.reports = {"n1": report(0, deadline + 120_000), "n2": report(0, deadline + 420_000, status="repeat")}
    stats = frame_stats(frame, {"n1": "up", "n2": "up"})
    assert stats.present_skew_ms == pytest.approx(0.3)
    n2 = next(n for n in stats.nodes if n.node == "n2")
    assert n2.late and n2.dropped and n2.present_ns == deadline + 420_000


def test_a_canvas_held_back_while_it_is_handed_over_counts_as_dropped() -> None:
    clock = FrameClock(Fraction(60), time_source=ManualTimeSource(10**12))
    frame = open_frame(clock, 0, {"n1": (), "n3": ()}, groups={"n1": ("front",)})
    frame.reports = {"n1": report(0, frame.plan.tick.deadline_ns, status="none"),
                     "n3": report(0, frame.plan.tick.deadline_ns, status="none")}
    n1 = next(n for n in frame_stats(frame, {"n1": "up", "n3": "up"}).nodes if n.node == "n1")
    assert n1.dropped and n1.late is False


def test_tracking_to_present_runs_from_the_oldest_tracking_data_shown() -> None:
    clock = FrameClock(Fraction(60), time_source=ManualTimeSource(10**12))
    tick = clock.tick(0)
    camera = CameraOrder(name="A", state=None, data_time_ns=tick.time_ns - 4 * MS, lost=False,
                         rects={"front": (0, 0, 8, 8)})
    frame = OpenFrame(plan=FramePlan(tick=tick, patterns={}, cameras=(camera,)), groups={"n1": ("front",)},
                      sent={"n1": ("front",)}, close_at_ns=0, plan_ms=0.1, send_ms=0.0, skipped_before=0)
    frame.reports = {"n1": report(0, tick.deadline_ns + 500_000)}
    stats = frame_stats(frame, {"n1": "up"})
    assert stats.tracking_age_ms == pytest.approx(4.0)
    assert stats.tracking_to_present_ms == pytest.approx(4.0 + PERIOD / 1e6 + 0.5, abs=1e-6)


def test_clock_sync_keeps_the_shortest_round_trip() -> None:
    offset = 5_000_000  # the master's clock runs 5 ms ahead of this node's
    sync = ClockSync()
    assert sync.offset_ns() == 0 and not sync.synced
    for sent, there, back in ((0, 300_000, 900_000), (1_000_000, 50_000, 150_000), (2_000_000, 40_000, 600_000)):
        t0 = 10**9 + sent
        sync.add(t0, t0 + offset + there, t0 + there + back)  # out takes `there`, back takes `back`
    assert sync.rtt_ns() == 200_000
    assert abs(sync.offset_ns() - offset) <= sync.rtt_ns() // 2
    assert sync.to_master(sync.to_local(123)) == 123
    assert ClockSync(same_clock=True).offset_ns() == 0


def test_nodes_on_hosts_with_other_clocks_present_together() -> None:
    """Two nodes whose clocks are 7 ms and -3 ms off the master's convert each deadline with their
    own estimate; the master sees their presents within the estimates' error of each other."""
    master = ManualTimeSource(10**12)
    clock = FrameClock(Fraction(60), time_source=master)
    offsets = {"n1": -7_000_000, "n2": 3_000_000}  # node clock = master clock + offset
    syncs = {}
    for node, offset in offsets.items():
        sync = ClockSync()
        for k in range(5):
            t0 = master.now_ns() + offset + k * 1_000_000
            sync.add(t0, t0 - offset + 60_000 + 10_000 * k, t0 + 130_000 + 20_000 * k)
        syncs[node] = sync
    frame = open_frame(clock, 0, {"n1": ("front",), "n2": ("side",)})
    for node, offset in offsets.items():
        lock: FrameLock[str] = FrameLock()
        lock.schedule(order(0, frame.plan.tick.deadline_ns), syncs[node].to_local(frame.plan.tick.deadline_ns))
        lock.rendered(0, "pictures", finished_ns=syncs[node].to_local(frame.plan.tick.time_ns) + 4 * MS, render_ms=4)
        upcoming = lock.upcoming()
        assert upcoming is not None
        local_deadline = upcoming.deadline_ns
        due = lock.due(local_deadline, have_previous=False)  # the node wakes at its own deadline
        assert due is not None and due.outcome == "fresh"
        frame.reports[node] = report(0, syncs[node].to_master(local_deadline))
        true_present = local_deadline - offset
        assert abs(true_present - frame.plan.tick.deadline_ns) <= syncs[node].rtt_ns() // 2
    stats = frame_stats(frame, {"n1": "up", "n2": "up"})
    assert stats.present_skew_ms < 0.2 and stats.late == 0


def steady_renders(lock: FrameLock[str], count: int, render_ms: float = 10.0) -> int:
    """``count`` on-time renders of ``render_ms`` each, presented; returns the next frame's deadline."""
    deadline = 100 * MS
    for frame in range(count):
        lock.schedule(order(frame, deadline), deadline)
        entry = lock.next_to_render(deadline - 20 * MS)
        assert entry is not None and entry.order.frame == frame
        assert lock.rendered(frame, f"pictures {frame}", deadline - 10 * MS, render_ms=render_ms)
        assert lock.due(deadline, have_previous=frame > 0) is not None
        deadline += PERIOD
    return deadline


def test_an_order_left_less_time_than_the_quickest_recent_render_is_skipped_and_the_next_one_rendered() -> None:
    lock: FrameLock[str] = FrameLock()
    deadline = steady_renders(lock, 8)  # the node's quickest recent render: 10 ms
    lock.schedule(order(8, deadline), deadline)
    assert lock.next_to_render(deadline - 6 * MS) is None  # 6 ms left (the render before overran): skipped
    assert (lock.counters.skipped, lock.counters.hopeless) == (1, 1)
    lock.schedule(order(9, deadline + PERIOD), deadline + PERIOD)
    entry = lock.next_to_render(deadline + PERIOD - 20 * MS)  # the next order has its full time: rendered
    assert entry is not None and entry.order.frame == 9
    skipped = lock.due(deadline, have_previous=True)
    assert skipped is not None and skipped.outcome == "repeat"


def test_never_two_hopeless_skips_in_a_row_and_none_before_the_node_knows_its_renders() -> None:
    lock: FrameLock[str] = FrameLock()
    deadline = steady_renders(lock, 7)  # seven renders: too few to judge
    lock.schedule(order(7, deadline), deadline)
    assert lock.next_to_render(deadline - 1 * MS) is not None  # rendered, however near its deadline
    assert not lock.rendered(7, "late", deadline + 2 * MS, render_ms=10.0)
    lock.due(deadline, have_previous=True)
    deadline += PERIOD
    lock.schedule(order(8, deadline), deadline)
    assert lock.next_to_render(deadline - 3 * MS) is None  # frame 8: 3 ms left, skipped
    deadline += PERIOD
    lock.schedule(order(9, deadline), deadline)
    entry = lock.next_to_render(deadline - 5 * MS)  # frame 9 is short of time too, but rendered: no two in a row
    assert entry is not None and entry.order.frame == 9 and lock.counters.hopeless == 1
