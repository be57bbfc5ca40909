"""The review timeline: one entry per frame number, holds for tracking gaps and lost records."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tests.review.takes import review_frame
from vpstage.takes.review import ReviewTimelineError, first_state, pick_camera, review_timeline
from vpstage.timing.timecode import Timecode


def test_gaps_and_lost_frames_keep_their_place() -> None:
    rate = Fraction(24000, 1001)
    frames = [review_frame(i, rate, gap=(0, 4), scene=()) for i in range(8) if i not in (2, 3)]
    timeline = review_timeline(frames, "A")
    assert [(e.index, e.frame, e.timecode, e.hold) for e in timeline] == [
        (0, 100, "01:00:00:00", "tracking gap"), (1, 101, "01:00:00:01", None),
        (2, 102, "01:00:00:02", "not recorded"), (3, 103, "01:00:00:03", "not recorded"),
        (4, 104, "01:00:00:04", "tracking gap"), (5, 105, "01:00:00:05", None),
        (6, 106, "01:00:00:06", None), (7, 107, "01:00:00:07", None)]
    assert [e.state is None for e in timeline] == [e.hold is not None for e in timeline]
    assert first_state(frames, "A") == frames[1].cameras[0].calibrated


def test_lost_frames_continue_drop_frame_labels() -> None:
    rate = Fraction(30000, 1001)
    before = review_frame(0, rate, scene=())
    count = Timecode.parse("00:00:59;29", rate).to_count()
    first = type(before)(frame=before.frame, timecode="00:00:59;29", timecode_frames=count, rate=rate, monotonic_ns=0,
                         cameras=before.cameras)
    last = type(before)(frame=before.frame + 3, timecode="00:01:00;04", timecode_frames=count + 3, rate=rate,
                        monotonic_ns=1, cameras=before.cameras)
    labels = [e.timecode for e in review_timeline([first, last], "A")]
    assert labels == ["00:00:59;29", "00:01:00;02", "00:01:00;03", "00:01:00;04"]  # ;00 and ;01 do not exist


def test_cameras_and_errors() -> None:
    frames = [review_frame(i, Fraction(25), gap=(0,), scene=()) for i in range(3)]
    assert pick_camera(frames, None) == "A" and pick_camera(frames, "A") == "A"
    with pytest.raises(ReviewTimelineError, match=r"no camera 'B' \(cameras: A\)"):
        pick_camera(frames, "B")
    with pytest.raises(ReviewTimelineError, match="no recorded frames"):
        review_timeline([], "A")
    with pytest.raises(ReviewTimelineError, match="no tracked frame"):
        first_state(frames[:1], "A")
