"""The frame master (Qt-free, torch-free): planner and frame sources, the render-node cluster,
per-frame accounts, failover, previews, statistics and the frame loop itself."""

from vpstage.engine.cameras import CameraSampler, CameraSource, TrackedCamera
from vpstage.engine.loop import FrameLoop, LoopEvents
from vpstage.engine.node_cluster import Incoming, NodeCluster, NodeLauncher, NodeProcess, WorkerStartError
from vpstage.engine.plan import FramePlan, FrameSource, PlannedFrame
from vpstage.engine.planner import Planner
from vpstage.engine.previews import PreviewImage, Previews
from vpstage.engine.report import build_report
from vpstage.engine.scene_state import SceneState
from vpstage.engine.sources import PatternSource
from vpstage.engine.stats import FrameStats, NodeStats, StatsHistory

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
