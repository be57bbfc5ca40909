"""JSON export: the take's metadata, its stage configuration and every frame record.

Layout: ``{"format": "vpstage-take", "format_version": 2, "take": {...}, "stage_config":
{"sha256", "yaml"} | null, "frames": [FrameRecord.to_dict(), ...]}``. Keys carry their unit
(``focal_length_mm``, ``tracking_age_ms``); ``FrameRecord.from_dict`` reads a frame back exactly.
Version 2: a camera's ``calibrated.distortion`` is the whole model (``{"model", "radial": [k1..k6],
"tangential": [p1, p2], "overscan", "offset_mm": [x, y]}``, was ``[k1, k2, p1, p2]``) and each
camera record has ``priority``, ``active``, ``on_wall`` and ``interleave``; ``from_dict`` reads both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vpstage.config import atomic_write_text
from vpstage.takes.exports.registry import ExportError, TakeExport, export_format

FORMAT_NAME = "vpstage-take"
FORMAT_VERSION = 2


def take_document(export: TakeExport) -> dict[str, Any]:
    take = export.take
    stage = None if export.stage_yaml is None else {"sha256": take.stage_hash, "yaml": export.stage_yaml}
    return {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "take": take.to_dict(), "stage_config": stage,
            "frames": [f.to_dict() for f in export.reporting(export.frames)]}


@export_format("json", suffix=".json", description="take metadata, stage configuration and every frame record")
def write_json(export: TakeExport, path: Path) -> None:
    try:
        text = json.dumps(take_document(export), allow_nan=False, separators=(",", ":"))
    except ValueError as exc:  # NaN or infinity in a record: JSON has no spelling for them
        raise ExportError(f"take {export.take.name}: {exc}") from exc
    atomic_write_text(path, text + "\n", backup=False)
