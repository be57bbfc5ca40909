"""Outputs of the render nodes: NDI senders (one per canvas) and DeckLink SDI when available."""

from devices.outputs.ndi import NdiSender, find_source_addresses
from devices.outputs.ndi_runtime import NdiUnavailable, write_loopback_config
from devices.outputs.pixels import bgrx_to_uyvy
from devices.outputs.sdi import DeckLinkOutput, OutputUnavailable, decklink_status

__all__ = [
    "DeckLinkOutput",
    "NdiSender",
    "NdiUnavailable",
    "OutputUnavailable",
    "bgrx_to_uyvy",
    "decklink_status",
    "find_source_addresses",
    "write_loopback_config",
]
