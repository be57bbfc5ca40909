"""``timecode``: decode SMPTE LTC from a WAV file and print one JSON line per frame.

    python main.py timecode FILE.wav [--rate R] [--channel N] --jsonl

Each line: ``{"timecode": "HH:MM:SS:FF", "drop_frame": bool, "sample": N}``, ``sample`` being the
sample index (rounded) of the transition that ends the frame's last bit (where the next frame
begins). With ``--rate`` at 48, 50, 60000/1001 or 60 the LTC runs at half that rate and labels
frame pairs: the label printed is the first frame of the pair at ``R``. A summary goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys

from cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK

BLOCK = 1 << 16


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("timecode", help="decode SMPTE LTC from a WAV file, one JSON line per frame",
                       description="Decode linear timecode (LTC) from a WAV file and print one JSON object per "
                       "decoded frame: its timecode, drop-frame flag and the sample where it ended. Every LTC rate "
                       "(23.976 to 30, drop-frame or not) decodes without --rate.")
    p.add_argument("file", metavar="FILE.wav", help="PCM (8/16/24/32-bit) or float WAV")
    p.add_argument("--rate", metavar="R", help="frame rate (24000/1001, 24, 25, 30000/1001, 30; 48, 50, 60000/1001 "
                   "or 60 read the LTC as frame pairs); checks frame numbers and labels at this rate")
    p.add_argument("--channel", type=int, default=0, metavar="N", help="zero-based channel carrying LTC (default 0)")
    p.add_argument("--jsonl", action="store_true", help="one JSON object per line (the only output format)")
    p.set_defaults(handler=cmd_timecode)


def cmd_timecode(args: argparse.Namespace) -> int:
    from devices.timecode.wav import WavError, WavReader
    from vpstage.stage.types import parse_rate
    from vpstage.timing.ltc import LtcDecoder, ltc_rate
    from vpstage.timing.timecode import Timecode, TimecodeError

    try:
        rate = None if args.rate is None else parse_rate(args.rate)
        fps, per_frame = (None, 1) if rate is None else ltc_rate(rate)
        wav = WavReader(args.file)
    except (ValueError, WavError, OSError) as exc:
        print(f"timecode: {exc}", file=sys.stderr)
        return EXIT_INVALID
    with wav:
        if not 0 <= args.channel < wav.info.channels:
            print(f"timecode: {args.file} has {wav.info.channels} channel(s); there is no channel {args.channel}",
                  file=sys.stderr)
            return EXIT_INVALID
        decoder = LtcDecoder(wav.info.sample_rate, fps)
        printed = refused = 0
        for block in wav.blocks(BLOCK, args.channel):
            for frame in decoder.feed(block):
                label = frame.label
                if rate is not None:
                    try:
                        count = frame.video_count(rate)
                    except TimecodeError:  # e.g. a drop-frame flag at 25
                        refused += 1
                        continue
                    tc = Timecode.from_count(count, rate, frame.drop_frame)
                    label = f"{tc.hours:02d}:{tc.minutes:02d}:{tc.seconds:02d}:{tc.frames:02d}"
                print(json.dumps({"timecode": label, "drop_frame": frame.drop_frame, "sample": round(frame.end)}),
                      flush=False)
                printed += 1
    sys.stdout.flush()
    summary = {"frames": printed, "refused": refused + decoder.bad_frames, "sync_errors": decoder.sync_errors,
               "samples": decoder.samples, "sample_rate": wav.info.sample_rate,
               "ltc_fps": str(fps) if fps is not None else decoder.nominal_fps, "frames_per_ltc_frame": per_frame}
    print(f"timecode: {json.dumps(summary)}", file=sys.stderr)
    if not printed:
        print(f"timecode: no LTC found in {args.file}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
