"""Byte transports for tracking receivers: a UDP socket or a serial port.

``open()`` runs on the caller's thread so a bad address or busy port fails at once (and a
receiver is ready as soon as ``start()`` returns); ``read(timeout)`` runs on the receiver thread
and returns what arrived with its monotonic arrival time; ``close()`` releases the resource.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import time
from typing import Literal, Protocol

import serial

from devices.tracking.decoders import Sender

try:  # pyserial's POSIX backend lets termios errors escape; Windows has neither
    from termios import error as _TermiosError
except ImportError:  # pragma: no cover - not POSIX
    class _TermiosError(Exception):  # type: ignore[no-redef]
        pass

SERIAL_ERRORS = (serial.SerialException, _TermiosError)
MAX_DATAGRAM = 65535
SERIAL_CHUNK = 4096
Read = list[tuple[bytes, Sender, int]]


class Transport(Protocol):
    def open(self) -> None: ...
    def read(self, timeout_s: float) -> Read: ...
    def close(self) -> None: ...
    @property
    def address(self) -> str: ...


class UdpTransport:
    """A bound UDP socket. ``multicast_group`` joins that group (only when configured: rehearsal
    and tests stay unicast on loopback). ``port=0`` binds an ephemeral port (see ``address``)."""

    def __init__(self, host: str, port: int, multicast_group: str | None = None) -> None:
        self.host, self.port, self.multicast_group = host, port, multicast_group
        self._sock: socket.socket | None = None
        self._bound: tuple[str, int] = (host, port)

    @property
    def address(self) -> str:
        host, port = self.bound()
        return f"udp://{f'[{host}]' if ':' in host else host}:{port}"

    def bound(self) -> tuple[str, int]:
        """(host, port) actually bound (the last one after ``close``)."""
        return self._bound

    def open(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            sock.bind((self.host, self.port))
            if self.multicast_group:
                self._join(sock, self.multicast_group)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        name = sock.getsockname()
        self._bound = (str(name[0]), int(name[1]))

    def _join(self, sock: socket.socket, group: str) -> None:
        if not ipaddress.ip_address(group).is_multicast:
            raise OSError(f"{group} is not a multicast address")
        interface = "0.0.0.0" if self.host in ("", "0.0.0.0") else self.host
        membership = struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton(interface))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)

    def read(self, timeout_s: float) -> Read:
        sock = self._sock
        if sock is None:
            raise OSError("transport is closed")
        sock.settimeout(timeout_s)
        try:
            data, sender = sock.recvfrom(MAX_DATAGRAM)
        except TimeoutError:
            return []
        arrival = time.monotonic_ns()
        out: Read = [(data, (str(sender[0]), int(sender[1])), arrival)]
        sock.setblocking(False)  # drain whatever else is queued without waiting
        try:
            while len(out) < 64:
                data, sender = sock.recvfrom(MAX_DATAGRAM)
                out.append((data, (str(sender[0]), int(sender[1])), time.monotonic_ns()))
        except (BlockingIOError, InterruptedError):
            pass
        return out

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


_PARITY = {"odd": serial.PARITY_ODD, "even": serial.PARITY_EVEN, "none": serial.PARITY_NONE}


class SerialTransport:
    """A serial port through pyserial: FreeD's 38400 baud, 8 data bits, odd parity, 1 stop bit."""

    def __init__(self, device: str, baud: int = 38400, parity: Literal["odd", "even", "none"] = "odd") -> None:
        self.device, self.baud, self.parity = device, baud, parity
        self._port: serial.Serial | None = None

    @property
    def address(self) -> str:
        return f"serial://{self.device}"

    def open(self) -> None:
        try:
            self._port = serial.Serial(self.device, self.baud, bytesize=serial.EIGHTBITS,
                                       parity=_PARITY[self.parity], stopbits=serial.STOPBITS_ONE, timeout=0.05)
        except SERIAL_ERRORS as exc:
            raise OSError(f"{self.device}: {exc}") from exc

    def read(self, timeout_s: float) -> Read:
        port = self._port
        if port is None:
            raise OSError("transport is closed")
        try:
            if port.timeout != timeout_s:  # changing it reconfigures the port: only when needed
                port.timeout = timeout_s
            data = port.read(max(1, min(port.in_waiting, SERIAL_CHUNK)))
            if not data:
                return []
            arrival = time.monotonic_ns()
            waiting = port.in_waiting
            if waiting:
                data += port.read(min(waiting, SERIAL_CHUNK))
        except SERIAL_ERRORS as exc:  # unplugged adapter, closed pty...
            raise OSError(f"{self.device}: {exc}") from exc
        return [(bytes(data), self.device, arrival)]

    def close(self) -> None:
        if self._port is not None:
            self._port.close()
            self._port = None
