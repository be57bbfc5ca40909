"""The TCP ports this process listens on (Linux ``/proc``), to learn where a library's server went.

An NDI sender listens on a TCP port of its own choosing and does not say which; several node
processes on one host each have senders, and NDI's per-host listing answers for one process only.
So a node compares its listening ports before and after creating a sender (``new_listening_port``),
and learns the address the port is bound to (127.0.0.1 in rehearsal, see ``loopback_bind``).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable

LISTEN = "0A"
"""TCP state LISTEN in /proc/net/tcp."""


def listening_sockets() -> dict[int, str]:
    """Port -> bound address of this process's listening TCP sockets (IPv4 and IPv6); empty where
    /proc is missing."""
    inodes = set()
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return {}
    for fd in fds:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found: dict[int, str] = {}
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > 9 and parts[3] == LISTEN and parts[9] in inodes:
                address, port = parts[1].rsplit(":", 1)
                found[int(port, 16)] = _address(address)
    return found


def _address(hex_address: str) -> str:
    """/proc/net/tcp's hex address (host byte order per 32-bit word) as text."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    if len(words) == 4:
        return socket.inet_ntop(socket.AF_INET, words)
    mapped = socket.inet_ntop(socket.AF_INET6, words)
    return mapped.removeprefix("::ffff:")


def listening_ports() -> set[int]:
    """Ports of this process's listening TCP sockets."""
    return set(listening_sockets())


def new_listening_port(create: Callable[[], object], ignore: set[int],
                       timeout_s: float = 1.0) -> tuple[object, int | None, str | None]:
    """Call ``create``; returns (its result, the one port it started listening on and the address
    that port is bound to), or None for both when no single new port was seen."""
    before = set(listening_sockets()) | ignore
    made = create()
    deadline = time.monotonic() + timeout_s
    while True:
        now = listening_sockets()
        new = set(now) - before
        if len(new) == 1:
            port = new.pop()
            return made, port, now[port]
        if time.monotonic() > deadline:
            return made, None, None
        time.sleep(0.005)
