"""Per-protocol decoders: one datagram (or serial chunk) in, ``CameraSample``s and drop reasons out.

A decoder never raises on bad input: it returns the reasons it dropped something, which the
receiver counts. Decoders keep per-sender state (OpenTrackIO reassembly, OSC partial poses,
the serial resynchroniser), so each receiver thread owns its own decoder. What they parse and
keep is bounded by ``ReceiverLimits`` (``devices/tracking/limits.py``): a datagram longer than
``max_datagram_bytes`` is refused (``too_large``) before any parsing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage
from pythonosc.osc_packet import OscPacket

from devices.tracking import osc_log
from devices.tracking.limits import ReceiverLimits, default_limits
from vpstage.protocols import freed, opentrackio, osc_wire
from vpstage.protocols import osc_map as osc
from vpstage.protocols.errors import CodecError
from vpstage.tracking.sample import CameraId, CameraSample

Sender = tuple[str, int] | str
"""(host, port) for UDP, the device path for serial."""
TOO_LARGE = "too_large"


class Decoded(NamedTuple):
    """What one datagram or chunk gave: samples, one drop reason per bad packet (``checksum``,
    ``truncated``, ``garbage``...), the number of valid packets (a valid packet may complete no
    sample yet, e.g. a first segment), and the reasons earlier accepted data was thrown away
    (partial OpenTrackIO payloads: ``superseded``, ``expired``, ``evicted``)."""

    samples: Sequence[CameraSample] = ()
    bad: Sequence[str] = ()
    packets: int = 0
    discarded: Sequence[str] = ()


class Decoder(Protocol):
    protocol: str

    def decode(self, data: bytes, sender: Sender, arrival_ns: int) -> Decoded: ...


def _source(sender: Sender) -> str:
    return sender[0] if isinstance(sender, tuple) else sender


def sample_from_freed(pos: freed.FreeDPosition, source: str, arrival_ns: int) -> CameraSample:
    """A D1 message as a CameraSample (millimetres -> metres; zoom/focus/spare kept raw)."""
    # positional (field order: protocol, source, camera_id, arrival_ns, x, y, z, pan, tilt, roll):
    # on the decode hot path keywords cost a NamedTuple 20 % (bench.tracking_decode)
    return CameraSample("freed", source, pos.camera_id, arrival_ns, pos.x_mm / 1000.0, pos.y_mm / 1000.0,
                        pos.z_mm / 1000.0, pos.pan_deg, pos.tilt_deg, pos.roll_deg,
                        focus_raw=pos.focus_raw, zoom_raw=pos.zoom_raw, user_bits=pos.spare)


class FreeDDecoder:
    """FreeD over UDP: exactly one D1 message per datagram."""

    protocol = "freed"

    def __init__(self, limits: ReceiverLimits | None = None) -> None:
        self.limits = limits or default_limits("freed")

    def decode(self, data: bytes, sender: Sender, arrival_ns: int) -> Decoded:
        if len(data) > self.limits.max_datagram_bytes:
            return Decoded(bad=[TOO_LARGE])
        try:
            pos = freed.parse_d1(data)
        except freed.ParseError as exc:
            return Decoded(bad=[exc.reason])
        return Decoded([sample_from_freed(pos, _source(sender), arrival_ns)], packets=1)


class SerialFreeDDecoder:
    """FreeD over serial: a byte stream resynchronised on valid 29-byte D1 frames."""

    protocol = "freed"

    def __init__(self) -> None:
        self.scanner = freed.D1FrameScanner()

    def decode(self, data: bytes, sender: Sender, arrival_ns: int) -> Decoded:
        runs_before = self.scanner.garbage_runs
        frames = self.scanner.feed(data)
        source = _source(sender)
        samples = [sample_from_freed(freed.parse_d1(frame), source, arrival_ns) for frame in frames]
        return Decoded(samples, ["garbage"] * (self.scanner.garbage_runs - runs_before), len(frames))


class OpenTrackIODecoder:
    """OpenTrackIO over UDP: header check, reassembly per sender (bounded by the limits'
    ``reassembly``), JSON/CBOR sample parsing."""

    protocol = "opentrackio"

    def __init__(self, limits: ReceiverLimits | None = None) -> None:
        self.limits = limits or default_limits("opentrackio")
        self.reassembler = opentrackio.Reassembler(self.limits.reassembly)

    def decode(self, data: bytes, sender: Sender, arrival_ns: int) -> Decoded:
        if len(data) > self.limits.max_datagram_bytes:
            return Decoded(bad=[TOO_LARGE])
        try:
            packet = opentrackio.parse_packet(data)
            whole = self.reassembler.feed(sender, packet, arrival_ns)
        except CodecError as exc:
            return Decoded(bad=[exc.reason], discarded=self.reassembler.drain_dropped())
        discarded = self.reassembler.drain_dropped()
        if whole is None:
            return Decoded(packets=1, discarded=discarded)
        try:
            sample = opentrackio.parse_sample_payload(whole[1], whole[0], _source(sender), arrival_ns)
        except CodecError as exc:
            return Decoded(bad=[exc.reason], discarded=discarded)
        return Decoded([sample] if sample is not None else [], packets=1, discarded=discarded)


class OscDecoder:
    """OSC over UDP. A datagram is checked first (size, then ``osc_wire.check_datagram``: address
    length, wildcards, arguments, messages, structure), then parsed by python-osc (its log records
    silenced, see ``osc_log``), and each message's address is matched against the address map's
    precompiled routes; ``OscSampleAssembler`` merges them into samples. Messages for addresses
    outside the map are ignored (``ignored`` counts them), not counted as bad."""

    protocol = "osc"

    def __init__(self, address_map: osc.OscAddressMap, limits: ReceiverLimits | None = None) -> None:
        self.limits = limits or default_limits("osc")
        self.address_map = address_map
        self.assembler = osc.OscSampleAssembler(address_map, self.limits.max_streams,
                                                round(self.limits.stream_expiry_s * 1e9))
        self.ignored = 0
        osc_log.install()

    def decode(self, data: bytes, sender: Sender, arrival_ns: int) -> Decoded:
        if len(data) > self.limits.max_datagram_bytes:
            return Decoded(bad=[TOO_LARGE])
        try:
            osc_wire.check_datagram(data, self.limits.osc)
        except CodecError as exc:
            return Decoded(bad=[exc.reason])
        messages = _parse(data)
        if messages is None:
            return Decoded(bad=["malformed"])
        matched: list[tuple[osc.OscRoute, CameraId, Sequence[Any]]] = []
        for message in messages:
            found = self.address_map.match(message.address)
            if found is None:
                self.ignored += 1
            else:
                matched.append((found[0], found[1], message.params))
        try:
            samples = self.assembler.apply_matched(matched, _source(sender), arrival_ns,
                                                   OscBundle.dgram_is_bundle(data))
        except osc.ParseError as exc:
            return Decoded(bad=[exc.reason])
        return Decoded(samples, packets=1)


def _parse(data: bytes) -> list[OscMessage] | None:
    """python-osc's messages of a checked datagram; None when it fails or had to log something
    (it logs only what it could not parse, skipping it)."""
    with osc_log.capture() as records:
        try:
            packet = OscPacket(data)
        except Exception:  # python-osc raises assorted errors on hostile bytes; all mean "not OSC"
            return None
    if records:
        return None
    return [timed.message for timed in packet.messages]
