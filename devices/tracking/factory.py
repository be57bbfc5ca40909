"""Build receivers from project ``TrackingSource`` entries (the hub and the ``track`` command use it)."""

from __future__ import annotations

from devices.tracking.decoders import (
    Decoder,
    FreeDDecoder,
    OpenTrackIODecoder,
    OscDecoder,
    SerialFreeDDecoder,
)
from devices.tracking.limits import ReceiverLimits, default_limits
from devices.tracking.receiver import Receiver, SampleCallback, StreamCallback, _ignore_sample, _ignore_stream
from devices.tracking.transports import SerialTransport, Transport, UdpTransport
from vpstage.config.endpoints import parse_endpoint
from vpstage.protocols import osc_map
from vpstage.stage.model import TrackingSource


def address_map(source: TrackingSource) -> osc_map.OscAddressMap:
    """The source's custom OSC routes, or its preset."""
    if not source.osc_routes:
        return osc_map.PRESETS[source.osc_map]
    routes = tuple(osc_map.OscRoute(address=r.address, args=tuple(r.args), axes=r.axes,
                                    scales=tuple(r.scales) if r.scales is not None else None, emits=r.emits)
                   for r in source.osc_routes)
    return osc_map.OscAddressMap(f"{source.name}-custom", routes)


def make_transport(source: TrackingSource) -> Transport:
    endpoint = parse_endpoint(source.address)
    if endpoint.kind == "serial":
        return SerialTransport(endpoint.device, source.serial_baud, source.serial_parity)
    return UdpTransport(endpoint.host, endpoint.port, source.multicast_group)


def make_decoder(source: TrackingSource, limits: ReceiverLimits | None = None) -> Decoder:
    limits = limits or default_limits(source.protocol)
    if parse_endpoint(source.address).kind == "serial":
        return SerialFreeDDecoder()
    if source.protocol == "freed":
        return FreeDDecoder(limits)
    if source.protocol == "opentrackio":
        return OpenTrackIODecoder(limits)
    return OscDecoder(address_map(source), limits)


def make_receiver(source: TrackingSource, on_sample: SampleCallback = _ignore_sample,
                  on_lost: StreamCallback = _ignore_stream, on_recovered: StreamCallback = _ignore_stream,
                  limits: ReceiverLimits | None = None) -> Receiver:
    """A stopped receiver for ``source`` (``limits``: the protocol's defaults); call ``start()``."""
    limits = limits or default_limits(source.protocol)
    return Receiver(source.name, make_transport(source), make_decoder(source, limits), source.lost_after_ms,
                    on_sample, on_lost, on_recovered, limits, source.never_tracked_after_ms)
