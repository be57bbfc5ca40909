"""One take record per presented frame, from what the planner used and what the loop measured.

Built on the frame loop's thread right after a frame is presented (``LoopEvents.frame_presented``)
from the planner's :class:`~vpstage.frame_master.planner.PlannedFrame` of the same frame and the loop's
:class:`~vpstage.frame_master.frame_stats.FrameStats`; plain floats only, so the recorder can queue it at once.

* cameras: ``raw`` is the tracker-frame pose the calibrated state was made from (the tracker's
  samples interpolated at the frame's sampling instant, as :class:`vpstage.tracking.PoseAt`
  gives it) with the source's protocol and name; focus/iris/zoom are the raw encoder counts when
  the tracker sent them, else its normalised encoders. ``calibrated`` is the planner's camera.
  ``tracking_age_ms`` is the age of the newest sample at the frame instant. ``priority``,
  ``active``, ``on_wall`` and ``interleave`` say how the camera's inner frustum was layered this
  frame (every camera has them, tracked or not).
* scene: each asset's placement and its content hash as the render workers loaded it, and the
  colour regions the frame's orders carried.
* nodes: the frame's plan time, and per node render / present time, late and dropped flags.
  ``render_ms`` is 0 for a node that delivered nothing on time (``late`` or ``dropped`` says why):
  the record has no spelling for "unknown", and a late answer arrives after the frame is recorded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction

from vpstage.frame_master.frame_stats import FrameStats
from vpstage.frame_master.plan import PlannedFrame
from vpstage.frame_master.tracked_cameras import TrackedCamera
from vpstage.takes.frame_records import (
    CalibratedCameraState,
    CameraRecord,
    FrameRecord,
    NodeTiming,
    RawCameraState,
    SceneAssetState,
)


def camera_record(camera: TrackedCamera, source_name: str) -> CameraRecord:
    """The take record of one camera (``source_name``: its tracking source in the project)."""
    if camera.state is None or camera.pose is None:
        return _layered(camera, None, None, None)
    s = camera.pose.sample
    raw = RawCameraState(protocol=s.protocol, source=source_name, x_m=s.x_m, y_m=s.y_m, z_m=s.z_m, pan_deg=s.pan_deg,
                         tilt_deg=s.tilt_deg, roll_deg=s.roll_deg, focus_raw=s.focus_raw, iris_raw=s.iris_raw,
                         zoom_raw=s.zoom_raw, focus_norm=s.focus_norm, iris_norm=s.iris_norm, zoom_norm=s.zoom_norm)
    pupil = float(camera.state.extra.get("entrance_pupil_m", 0.0))
    calibrated = CalibratedCameraState.from_camera_state(camera.state, pupil)
    return _layered(camera, raw, calibrated, camera.age_ms)


def _layered(camera: TrackedCamera, raw: RawCameraState | None, calibrated: CalibratedCameraState | None,
             age_ms: float | None) -> CameraRecord:
    """``camera``'s record with how its inner frustum was layered this frame."""
    return CameraRecord(camera=camera.name, raw=raw, calibrated=calibrated, tracking_age_ms=age_ms,
                        priority=camera.priority, active=camera.active, on_wall=camera.on_wall,
                        interleave=camera.interleave)


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def frame_record(plan: PlannedFrame, stats: FrameStats, rate: Fraction, trackers: Mapping[str, str],
                 asset_hashes: Mapping[str, str]) -> FrameRecord:
    """The record of one frame (``trackers``: camera -> tracking source name; ``asset_hashes``:
    asset -> content hash, empty string when unknown)."""
    if plan.frame != stats.frame:
        raise ValueError(f"the plan of frame {plan.frame} does not match the stats of frame {stats.frame}")
    tick = plan.tick
    scene = plan.scene
    assets = tuple(SceneAssetState.from_placement(placed.asset, model, asset_hashes.get(placed.asset, ""),
                                                  placed.enabled)
                   for placed, model in zip(scene.placements, scene.placement_models, strict=True))
    nodes = tuple(NodeTiming(node=n.node, plan_ms=_finite(stats.plan_ms), render_ms=_finite(n.render_ms),
                             present_ms=_finite(n.present_ms), late=n.late, dropped=n.dropped) for n in stats.nodes)
    cameras = tuple(camera_record(c, trackers.get(c.name, "")) for c in plan.cameras)
    return FrameRecord(frame=tick.index, timecode=str(tick.timecode), timecode_frames=tick.count, rate=rate,
                       monotonic_ns=tick.time_ns, cameras=cameras, scene=assets, nodes=nodes,
                       colour_regions=scene.regions)
