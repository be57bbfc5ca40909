"""Takes: crash-safe per-frame recording, recovery, the take browser and exports for post.

``records`` (what a frame and a take hold), ``recorder`` (start/record/stop, frame-loop safe),
``journal`` (the writer thread and its durability policy), ``database`` (SQLite schema, recovery),
``library`` (browse and edit takes), ``integrity`` (damaged files: which takes, what still reads),
``stats`` (per-take statistics), ``exports`` (CSV, JSON, USD).
"""

from vpstage.takes.database import TakeDatabaseError, TakeNotFoundError, default_db_path
from vpstage.takes.frame_records import (
    CalibratedCameraState,
    CameraRecord,
    FrameRecord,
    NodeTiming,
    RawCameraState,
    SceneAssetState,
    TakeInfo,
    TakeRefError,
    parse_take_ref,
    take_name,
)
from vpstage.takes.integrity import DatabaseHealth, TakeDamage, TakeDamagedError
from vpstage.takes.journal import DurabilityPolicy
from vpstage.takes.library import TakeLibrary
from vpstage.takes.recorder import RecorderError, RecorderStats, TakeRecorder, stage_config
from vpstage.takes.take_stats import TakeStats, take_stats

__all__ = [
    "CalibratedCameraState",
    "CameraRecord",
    "DatabaseHealth",
    "DurabilityPolicy",
    "FrameRecord",
    "NodeTiming",
    "RawCameraState",
    "RecorderError",
    "RecorderStats",
    "SceneAssetState",
    "TakeDamage",
    "TakeDamagedError",
    "TakeDatabaseError",
    "TakeInfo",
    "TakeLibrary",
    "TakeNotFoundError",
    "TakeRecorder",
    "TakeRefError",
    "TakeStats",
    "default_db_path",
    "parse_take_ref",
    "stage_config",
    "take_name",
    "take_stats",
]
