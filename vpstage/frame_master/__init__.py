"""The frame master (Qt-free, torch-free): planner and frame sources, the render-node cluster,
per-frame accounts, failover, previews, statistics and the frame loop itself."""

from vpstage.frame_master.frame_stats import FrameStats, NodeStats, StatsHistory
from vpstage.frame_master.loop import FrameLoop, LoopEvents
from vpstage.frame_master.node_cluster import Incoming, NodeCluster, NodeLauncher, NodeProcess, WorkerStartError
from vpstage.frame_master.plan import FramePlan, FrameSource, PlannedFrame
from vpstage.frame_master.planner import Planner
from vpstage.frame_master.previews import PreviewImage, Previews
from vpstage.frame_master.report import build_report
from vpstage.frame_master.scene_state import SceneState
from vpstage.frame_master.sources import PatternSource
from vpstage.frame_master.tracked_cameras import CameraSampler, CameraSource, TrackedCamera

__all__ = [
    "CameraSampler",
    "CameraSource",
    "FrameLoop",
    "FramePlan",
    "FrameSource",
    "FrameStats",
    "Incoming",
    "LoopEvents",
    "NodeCluster",
    "NodeLauncher",
    "NodeProcess",
    "NodeStats",
    "PatternSource",
    "PlannedFrame",
    "Planner",
    "PreviewImage",
    "Previews",
    "SceneState",
    "StatsHistory",
    "TrackedCamera",
    "WorkerStartError",
    "build_report",
]
