"""Per-protocol decoders: one datagram (or serial chunk) in, ``CameraSample``s and drop reasons out.

A decoder never raises on bad input: it returns the reasons it dropped something, which the
receiver counts. Decoders keep per-sender state (OpenTrackIO reassembly, OSC partial poses,
the serial resynchroniser), so each receiver thread owns its own decoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage
from pythonosc.osc_packet import OscPacket

from vpstage.protocols import freed, opentrackio
from vpstage.protocols import osc_map as osc
from vpstage.protocols.errors import CodecError
from vpstage.tracking.sample import CameraSample

_WILDCARDS = frozenset("*?[]{}")
Sender = tuple[str, int] | str
"""(host, port) for UDP, the device path for serial."""


class Decoded(NamedTuple):
    """What one datagram or chunk gave: samples, one drop reason per bad packet (``checksum``,
    ``truncated``, ``garbage``...), and the number of valid packets (a valid packet may complete no
    sample yet, e.g. a first segment)."""

    samples: Sequence[CameraSample] = ()
    bad: Sequence[str] = ()
    packets: int = 0


class Decoder(Protocol):
    protocol: str

    def decode(self, data: bytes, sender: Sender, arrival_ns: int) -> Decoded: ...


def _source(sender: Sender) -> str:
    return sender[0] if isinstance(sender, tuple) else sender


def sample_from_freed(pos: freed.FreeDPosition, source: str, arrival_ns: int) -> CameraSample:
    """A D1 message as a CameraSample (millimetres -> metres; zoom/focus/spare kept raw)."""
    return CameraSample("freed", source, pos.camera_id, arrival_ns, pos.x_mm / 1000.0, pos.y_mm / 1000.0,
                        pos.z_mm / 1000.0, pos.pan_deg, pos.tilt_deg, pos.roll_deg,
                        focus_raw=pos.focus_raw, zoom_raw=pos.zoom_raw, user_bits=pos.spare)


class FreeDDecoder:
    """FreeD over UDP: exactly one D1 message per datagram."""

    protocol = "freed"

    def decode(self, data: bytes, sender: Sender, arrival_ns: int) -> Decoded:
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
    """OpenTrackIO over UDP: header check, reassembly per sender, JSON/CBOR sample parsing."""

    protocol = "opentrackio"

    def __init__(self) -> None:
        self.reassembler = opentrackio.Reassembler()

    def decode(self, data: bytes, sender: Sender, arrival_ns: int) -> Decoded:
        try:
            packet = opentrackio.parse_packet(data)
            whole = self.reassembler.feed(sender, packet)
            if whole is None:
                return Decoded(packets=1)
            sample = opentrackio.parse_sample_payload(whole[1], whole[0], _source(sender), arrival_ns)
        except CodecError as exc:
            return Decoded(bad=[exc.reason])
        return Decoded([sample] if sample is not None else [], packets=1)


class OscDecoder:
    """OSC over UDP: python-osc parses the datagram and its dispatcher routes each message to the
    address map's routes; ``OscSampleAssembler`` merges them into samples. Messages for
    addresses outside the map are ignored (``ignored`` counts them), not counted as bad."""

    protocol = "osc"

    def __init__(self, address_map: osc.OscAddressMap) -> None:
        self.assembler = osc.OscSampleAssembler(address_map)
        self.dispatcher = Dispatcher()
        for route in address_map.routes:
            self.dispatcher.map(route.dispatcher_pattern, self._on_message, route)
        self.ignored = 0
        self._routed: list[tuple[osc.OscRoute, str, tuple[Any, ...]]] = []

    def _on_message(self, address: str, fixed: list[Any], *args: Any) -> None:
        self._routed.append((fixed[0], address, args))

    def decode(self, data: bytes, sender: Sender, arrival_ns: int) -> Decoded:
        try:
            packet = OscPacket(data)
        except Exception:  # python-osc raises assorted errors on hostile bytes; all mean "not OSC"
            return Decoded(bad=["malformed"])
        messages: list[OscMessage] = [timed.message for timed in packet.messages]
        # Trackers send plain addresses. A wildcard pattern from the wire would be compiled into a
        # regular expression by python-osc, and a hostile one can backtrack for minutes: refuse it.
        if any(_WILDCARDS.intersection(m.address) for m in messages):
            return Decoded(bad=["wildcard_address"])
        self._routed.clear()
        reply_to = sender if isinstance(sender, tuple) else (sender, 0)
        for message in messages:
            handlers = list(self.dispatcher.handlers_for_address(message.address))
            self.ignored += not handlers
            for handler in handlers:
                handler.invoke(reply_to, message)
        try:
            samples = self.assembler.apply_routed(self._routed, _source(sender), arrival_ns,
                                                  OscBundle.dgram_is_bundle(data))
        except osc.ParseError as exc:
            return Decoded(bad=[exc.reason])
        return Decoded(samples, packets=1)
