"""Tracker addresses as written in project files and on the command line.

``udp://HOST:PORT`` (HOST may be ``0.0.0.0`` for every interface, or ``[::1]`` for IPv6) and
``serial:///dev/ttyUSB0`` (or ``serial://COM3`` on Windows).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Endpoint:
    kind: Literal["udp", "serial"]
    host: str = ""
    port: int = 0
    device: str = ""

    def __str__(self) -> str:
        if self.kind == "serial":
            return f"serial://{self.device}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"udp://{host}:{self.port}"


def parse_endpoint(text: str) -> Endpoint:
    """Parse an address; raises ValueError with a message fit for an operator."""
    parts = urlsplit(text.strip())
    if parts.scheme == "serial":
        device = (parts.netloc + parts.path) if parts.netloc else parts.path
        if not device:
            raise ValueError(f"{text!r}: give the serial device, e.g. serial:///dev/ttyUSB0")
        return Endpoint("serial", device=device)
    if parts.scheme != "udp":
        raise ValueError(f"{text!r}: use udp://HOST:PORT or serial:///dev/ttyX")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{text!r}: the port must be a number from 0 to 65535") from exc
    if not parts.hostname or port is None or parts.path not in ("", "/"):
        raise ValueError(f"{text!r}: use udp://HOST:PORT, e.g. udp://0.0.0.0:40000")
    return Endpoint("udp", host=parts.hostname, port=port)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1); False for other names."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name other than localhost
        return False
