"""The drag payload of a cabinet type dragged from the catalog onto the wall plan."""

from __future__ import annotations

from typing import cast, get_args

from vpstage.stage.edits import NewKind

PANEL_MIME = "application/x-vpstage-panel"


def encode_panel_drop(panel_id: str, kind: NewKind) -> bytes:
    return f"{panel_id}\n{kind}".encode()


def parse_kind(text: str) -> NewKind:
    """``text`` as a section kind to build; anything unknown reads as ``auto``."""
    return cast(NewKind, text) if text in get_args(NewKind) else "auto"


def decode_panel_drop(data: bytes) -> tuple[str, NewKind]:
    """(panel id, kind) from a drag payload."""
    panel_id, _, kind = data.decode().partition("\n")
    return panel_id, parse_kind(kind)
