"""Tracking commands: ``track`` (print decoded samples) and ``simulate-tracker`` (send a moving camera)."""

from __future__ import annotations

import argparse
import json
import queue
import sys
import time
from typing import Any

from cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK

DEFAULT_SIM_TARGET = {"freed": "udp://127.0.0.1:40000", "opentrackio": "udp://127.0.0.1:55555",
                      "osc": "udp://127.0.0.1:8000"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("track", help="receive tracking and print every decoded sample",
                       description="Listen for FreeD (UDP or serial), OpenTrackIO and OSC and print each decoded "
                       "sample as one JSON object per line (values as sent: metres, degrees, before alignment), "
                       "then a final line with packet counts.")
    p.add_argument("--freed", action="append", default=[], metavar="udp://HOST:PORT",
                   help="FreeD over UDP (e.g. udp://127.0.0.1:40000); repeatable")
    p.add_argument("--freed-serial", action="append", default=[], metavar="DEVICE",
                   help="FreeD over serial, 38400 baud 8O1 (e.g. /dev/ttyUSB0); repeatable")
    p.add_argument("--opentrackio", action="append", default=[], metavar="udp://HOST:PORT",
                   help="OpenTrackIO over UDP, unicast (e.g. udp://127.0.0.1:55555); repeatable")
    p.add_argument("--osc", action="append", default=[], metavar="udp://HOST:PORT", help="OSC over UDP; repeatable")
    p.add_argument("--osc-map", choices=("vp", "loled", "zigsim"), default="vp", help="OSC address preset")
    p.add_argument("--count", type=int, default=None, metavar="N", help="stop after N samples")
    p.add_argument("--timeout", type=float, default=None, metavar="S", help="stop after S seconds")
    p.add_argument("--jsonl", action="store_true", help="one JSON object per line (the only output format)")
    p.add_argument("--allow-network", action="store_true",
                   help="listen on a non-loopback address (a studio tracker on the network); without it only "
                        "127.0.0.1 / ::1 are accepted")
    p.set_defaults(handler=cmd_track)

    p = sub.add_parser("simulate-tracker", help="send a scripted or recorded camera move as real tracking packets")
    p.add_argument("--protocol", choices=("freed", "opentrackio", "osc"), default="freed")
    p.add_argument("--target", metavar="udp://HOST:PORT",
                   help="where to send (default 127.0.0.1 on the protocol's usual port)")
    p.add_argument("--serial", metavar="DEVICE", help="FreeD to a serial device instead; 'pty' creates a "
                   "pseudo-terminal and prints the device to give to 'track --freed-serial'")
    p.add_argument("--rate", type=float, default=60.0, help="samples per second, 24-240 (default 60)")
    p.add_argument("--path", choices=("orbit", "dolly", "crane", "handheld", "static"), default="orbit")
    p.add_argument("--dropouts", action="store_true", help="go silent for 0.6 s every 4 s")
    p.add_argument("--replay", metavar="FILE.jsonl", help="replay a recorded path (track --jsonl output)")
    p.add_argument("--duration", type=float, default=None, metavar="S", help="seconds to run (default: until Ctrl-C)")
    p.add_argument("--camera-id", default="1", help="FreeD camera id / OpenTrackIO source number / OSC id")
    p.add_argument("--encoding", choices=("json", "cbor"), default="json", help="OpenTrackIO payload encoding")
    p.add_argument("--allow-network", action="store_true", help="allow a non-loopback target")
    p.set_defaults(handler=cmd_simulate)


def _sources(args: argparse.Namespace) -> list[Any]:
    from vpstage.stage.model import TrackingSource

    specs = [("freed", a) for a in args.freed] + [("freed", f"serial://{d}") for d in args.freed_serial]
    specs += [("opentrackio", a) for a in args.opentrackio] + [("osc", a) for a in args.osc]
    return [TrackingSource(name=f"{protocol}-{i}", protocol=protocol, address=address,
                           osc_map=args.osc_map, lost_after_ms=1000.0)
            for i, (protocol, address) in enumerate(specs)]


def _loopback_or_serial(address: str) -> bool:
    from vpstage.config.endpoints import is_loopback, parse_endpoint

    endpoint = parse_endpoint(address)
    return endpoint.kind == "serial" or is_loopback(endpoint.host)


def cmd_track(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from devices.tracking.factory import make_receiver
    from vpstage.tracking.sample_json import sample_record

    try:
        sources = _sources(args)
    except ValidationError as exc:
        print(f"track: {exc.errors(include_url=False)[0]['msg']}", file=sys.stderr)
        return EXIT_INVALID
    if not sources:
        print("track: give at least one of --freed, --freed-serial, --opentrackio, --osc", file=sys.stderr)
        return EXIT_INVALID
    exposed = [s.address for s in sources if not _loopback_or_serial(s.address)]
    if exposed and not args.allow_network:
        print(f"track: {exposed[0]} is not a loopback address; pass --allow-network to listen on the network",
              file=sys.stderr)
        return EXIT_INVALID
    samples: queue.Queue[Any] = queue.Queue()
    receivers = [make_receiver(s, on_sample=lambda _name, sample: samples.put(sample)) for s in sources]
    try:
        for receiver in receivers:
            receiver.start()
            print(f"listening: {receiver.decoder.protocol} on {receiver.transport.address}",
                  file=sys.stderr, flush=True)
    except (OSError, ValueError) as exc:
        print(f"track: cannot open {receiver.transport.address}: {exc}", file=sys.stderr)
        for r in receivers:
            r.stop()
        return EXIT_FAILED
    t0 = time.monotonic_ns()
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    printed = 0
    try:
        while args.count is None or printed < args.count:
            wait = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
            if wait <= 0:
                break
            try:
                sample = samples.get(timeout=wait)
            except queue.Empty:
                continue
            print(json.dumps(sample_record(sample, t0)), flush=True)
            printed += 1
    except KeyboardInterrupt:
        pass
    finally:
        for receiver in receivers:
            receiver.stop()
    stats = [r.stats() for r in receivers]
    bad: dict[str, int] = {}
    for s in stats:
        for reason, n in s.bad_by_reason.items():
            bad[reason] = bad.get(reason, 0) + n
    print(json.dumps({"packets": sum(s.packets for s in stats), "bad_packets": sum(s.bad_packets for s in stats),
                      "bad_by_reason": bad, "samples": printed}), flush=True)
    return EXIT_OK


def _build_simulator(args: argparse.Namespace) -> Any:
    from devices.tracking import paths, simulator
    from vpstage.config.endpoints import parse_endpoint

    if args.serial and args.protocol != "freed":
        raise ValueError("only FreeD runs over serial")
    camera_id: int | str = int(args.camera_id) if args.camera_id.isdigit() else args.camera_id
    if args.protocol == "freed" and not isinstance(camera_id, int):
        raise ValueError("a FreeD camera id is a number 0-255")
    path = paths.RecordedPath.load(args.replay) if args.replay else paths.PATHS[args.path]()
    if args.dropouts:
        path = paths.with_dropouts(path)
    encoder: simulator.Encoder
    if args.protocol == "freed":
        encoder = simulator.FreeDEncoder()
    elif args.protocol == "opentrackio":
        encoder = simulator.OpenTrackIOEncoder(args.encoding)
    else:
        encoder = simulator.OscEncoder()
    link: simulator.Link
    if args.serial == "pty":
        link = simulator.PtyLink()
        print(f"serial device: {link.device}", file=sys.stderr, flush=True)
    elif args.serial:
        link = simulator.SerialLink(args.serial)
    else:
        endpoint = parse_endpoint(args.target or DEFAULT_SIM_TARGET[args.protocol])
        if endpoint.kind != "udp":
            raise ValueError("--target takes udp://HOST:PORT; use --serial for serial devices")
        link = simulator.UdpLink(endpoint.host, endpoint.port, args.allow_network)
    return simulator.TrackerSimulator(encoder, link, path, args.rate, camera_id)


def cmd_simulate(args: argparse.Namespace) -> int:
    try:
        sim = _build_simulator(args)
    except (ValueError, OSError) as exc:
        print(f"simulate-tracker: {exc}", file=sys.stderr)
        return EXIT_INVALID
    where = args.serial or args.target or DEFAULT_SIM_TARGET[args.protocol]
    print(f"sending {args.protocol} at {args.rate:g} Hz to {where}", file=sys.stderr, flush=True)
    try:
        sim.run(args.duration)
    except KeyboardInterrupt:
        pass
    finally:
        sim.link.close()
    print(json.dumps({"sent": sim.sent, "dropped": sim.dropped, "skipped": sim.skipped}), flush=True)
    return EXIT_OK
