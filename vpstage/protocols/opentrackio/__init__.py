"""OpenTrackIO (SMPTE RIS OSVP) wire codec: packets, reassembly, sample documents.

``packet``: 16-byte header, Fletcher-16 (mod 256 written, mod 255 accepted), segmentation.
``reassembly``: per-sender segment reassembly (bounded by ``ReassemblyLimits``) and duplicate /
out-of-order sequence drops.
``document``: JSON/CBOR samples to and from ``CameraSample`` (``fields``: typed readers).
"""

from vpstage.protocols.opentrackio.document import (
    PROTOCOL_VERSION,
    decode_payload,
    document_from_sample,
    encode_document,
    parse_sample_payload,
    sample_from_document,
    write_sample_packets,
)
from vpstage.protocols.opentrackio.packet import (
    DEFAULT_MTU,
    DEFAULT_PORT,
    ENCODING_CBOR,
    ENCODING_JSON,
    HEADER_SIZE,
    IDENTIFIER,
    MODULUS_V1_0_0,
    MODULUS_V1_0_1,
    Packet,
    ParseError,
    fletcher16,
    multicast_group,
    parse_packet,
    write_packet,
    write_segments,
)
from vpstage.protocols.opentrackio.reassembly import Reassembler, ReassemblyLimits, sequence_delta

__all__ = [
    "DEFAULT_MTU",
    "DEFAULT_PORT",
    "ENCODING_CBOR",
    "ENCODING_JSON",
    "HEADER_SIZE",
    "IDENTIFIER",
    "MODULUS_V1_0_0",
    "MODULUS_V1_0_1",
    "PROTOCOL_VERSION",
    "Packet",
    "ParseError",
    "Reassembler",
    "ReassemblyLimits",
    "decode_payload",
    "document_from_sample",
    "encode_document",
    "fletcher16",
    "multicast_group",
    "parse_packet",
    "parse_sample_payload",
    "sample_from_document",
    "sequence_delta",
    "write_packet",
    "write_sample_packets",
    "write_segments",
]
