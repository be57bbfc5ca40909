"""The TCP ports this process listens on (Linux ``/proc``), to learn where a library's server went.

An NDI sender listens on a TCP port of its own choosing and does not say which; several node
processes on one host each have senders, and NDI's per-host listing answers for one process only.
So a node compares its listening ports before and after creating a sender (``new_listening_port``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

LISTEN = "0A"
"""TCP state LISTEN in /proc/net/tcp."""


def listening_ports() -> set[int]:
    """Ports of this process's listening TCP sockets (IPv4 and IPv6); empty where /proc is missing."""
    inodes = set()
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return set()
    for fd in fds:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > 9 and parts[3] == LISTEN and parts[9] in inodes:
                ports.add(int(parts[1].rsplit(":", 1)[1], 16))
    return ports


def new_listening_port(create: Callable[[], object], ignore: set[int],
                       timeout_s: float = 1.0) -> tuple[object, int | None]:
    """Call ``create`` and return (its result, the one port it started listening on, or None)."""
    before = listening_ports() | ignore
    made = create()
    deadline = time.monotonic() + timeout_s
    while True:
        new = listening_ports() - before
        if len(new) == 1:
            return made, new.pop()
        if time.monotonic() > deadline:
            return made, None
        time.sleep(0.005)
