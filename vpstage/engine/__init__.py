"""Frame-locked orchestration (Qt-free, torch-free): jobs, job sources, clusters, the swap
barrier, failover, statistics and the frame loop itself."""

from vpstage.engine.cameras import CameraSampler, CameraSource, TrackedCamera
from vpstage.engine.cluster import Cluster, InlineCluster, Reply, WorkerStartError
from vpstage.engine.embedded import EmbeddedCluster
from vpstage.engine.jobs import (
    AssetPlacement,
    CanvasImage,
    CanvasJob,
    FrameJob,
    InnerView,
    NodeFrame,
    OuterView,
    RaysHandle,
    RenderQuality,
    SceneContent,
)
from vpstage.engine.loop import FrameLoop, LoopEvents
from vpstage.engine.planner import PlannedFrame, Planner
from vpstage.engine.present import OutputInfo, Presenter
from vpstage.engine.report import build_report
from vpstage.engine.scene_state import SceneState
from vpstage.engine.sources import JobSource, PatternJobSource
from vpstage.engine.stats import FrameStats, NodeStats, StatsHistory
from vpstage.engine.worker import Worker, WorkerFactory, WorkerSpec, worker_specs

__all__ = [
    "AssetPlacement",
    "CameraSampler",
    "CameraSource",
    "CanvasImage",
    "CanvasJob",
    "Cluster",
    "EmbeddedCluster",
    "FrameJob",
    "FrameLoop",
    "FrameStats",
    "InlineCluster",
    "InnerView",
    "JobSource",
    "LoopEvents",
    "NodeFrame",
    "NodeStats",
    "OuterView",
    "OutputInfo",
    "PatternJobSource",
    "PlannedFrame",
    "Planner",
    "Presenter",
    "RaysHandle",
    "RenderQuality",
    "Reply",
    "SceneContent",
    "SceneState",
    "StatsHistory",
    "TrackedCamera",
    "Worker",
    "WorkerFactory",
    "WorkerSpec",
    "WorkerStartError",
    "build_report",
    "worker_specs",
]
