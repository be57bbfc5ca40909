"""Render nodes: what the frame master and its nodes tell each other (orders, reports, clock
sync, thumbnails), how messages travel (codec, channel), the node's side of frame lock, what a
node renders (jobs) and its outputs' contract. Qt-free and torch-free; the node runtime that
renders on a GPU is ``render.node``."""

from vpstage.nodes.jobs import (
    AssetPlacement,
    CanvasImage,
    CanvasJob,
    FrameJob,
    InnerView,
    OuterView,
    RaysHandle,
    RenderQuality,
    SceneContent,
)
from vpstage.nodes.outputs import CanvasOutput, OutputInfo
from vpstage.nodes.spec import NodeSpec, node_device, node_specs, stage_revision

__all__ = [
    "AssetPlacement",
    "CanvasImage",
    "CanvasJob",
    "CanvasOutput",
    "FrameJob",
    "InnerView",
    "NodeSpec",
    "OuterView",
    "OutputInfo",
    "RaysHandle",
    "RenderQuality",
    "SceneContent",
    "node_device",
    "node_specs",
    "stage_revision",
]
