"""Messages over one TCP connection between the frame master and a render node.

:class:`Channel` reads whole messages (header, then exactly the payload it announces, within the
kind's size limit) and writes them through a bounded outbox drained by a thread of its own, so a
peer that stops reading can never block the sender's frame thread: when the outbox is full the
message is dropped and counted. A payload that does not decode is counted under its reason and
skipped (the stream stays in step), and so is a message of another protocol version, of an unknown
kind or over its size limit (its header still says how long it is); a header that cannot be
trusted (wrong magic, an absurd length) means the stream is lost, so the connection is closed.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
from collections import Counter

from vpstage.nodes.codec import HEADER_SIZE, SkippableError, WireError, decode_header, decode_payload, encode
from vpstage.nodes.messages import Message

OUTBOX_DEPTH = 64
"""Messages queued for sending before new ones are dropped (about one second of frames)."""


class ChannelClosed(ConnectionError):
    """The connection ended (peer gone, closed here, or a stream error); ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Channel:
    """One connected socket, used by one reader thread and any number of senders."""

    def __init__(self, sock: socket.socket, name: str = "channel", outbox_depth: int = OUTBOX_DEPTH) -> None:
        self.sock = sock
        self.name = name
        with contextlib.suppress(OSError):  # not TCP (a socketpair in tests)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(None)
        self.counters: Counter[str] = Counter()
        """Bad messages by reason, plus ``dropped_outgoing`` (outbox full) and ``sent`` / ``received``."""
        self._outbox: queue.Queue[bytes | None] = queue.Queue(outbox_depth)
        self._closed = threading.Event()
        self.close_reason = ""
        self.bytes_received = 0
        self._writer = threading.Thread(target=self._write_loop, name=f"{name}-send", daemon=True)
        self._writer.start()

    # ------------------------------------------------------------------ sending (any thread)

    def send(self, message: Message) -> bool:
        """Queue ``message``; False when the channel is closed or its outbox is full (counted)."""
        return self.send_bytes(encode(message))

    def send_bytes(self, data: bytes) -> bool:
        if self._closed.is_set():
            return False
        try:
            self._outbox.put_nowait(data)
        except queue.Full:
            self.counters["dropped_outgoing"] += 1
            return False
        return True

    def send_now(self, message: Message) -> None:
        """Write ``message`` on the calling thread (handshakes, before the writer matters)."""
        self.sock.sendall(encode(message))

    def _write_loop(self) -> None:
        while (data := self._outbox.get()) is not None:
            try:
                self.sock.sendall(data)
                self.counters["sent"] += 1
            except OSError as exc:
                self.close(f"send failed: {exc}")
                return

    # ------------------------------------------------------------------ receiving (one thread)

    def recv(self) -> Message:
        """The next well-formed message. Bad payloads are counted and skipped; raises
        ChannelClosed when the connection ends or its stream cannot be trusted."""
        while True:
            header = self._read_exact(HEADER_SIZE)
            try:
                kind, length = decode_header(header)
            except SkippableError as exc:
                self.counters[exc.reason] += 1
                self._read_exact(exc.length)
                continue
            except WireError as exc:
                self.counters[exc.reason] += 1
                self.close(f"bad stream: {exc}")
                raise ChannelClosed(self.close_reason) from None
            payload = self._read_exact(length)
            self.bytes_received += HEADER_SIZE + length
            try:
                message = decode_payload(kind, payload)
            except WireError as exc:
                self.counters[exc.reason] += 1
                continue
            self.counters["received"] += 1
            return message

    def _read_exact(self, count: int) -> bytes:
        chunks, remaining = [], count
        while remaining:
            try:
                chunk = self.sock.recv(min(remaining, 1 << 20))
            except OSError as exc:
                self.close(f"receive failed: {exc}")
                raise ChannelClosed(self.close_reason) from None
            if not chunk:
                if self._closed.is_set():
                    raise ChannelClosed(self.close_reason)
                self.close("connection closed by the peer" if remaining == count else "truncated message")
                if remaining != count:
                    self.counters["truncated"] += 1
                raise ChannelClosed(self.close_reason)
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    # ------------------------------------------------------------------ closing

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def flush(self, timeout_s: float = 1.0) -> None:
        """Wait (bounded) until the outbox has been written."""
        deadline = threading.Event()
        for _ in range(int(timeout_s / 0.01)):
            if self._outbox.empty() or self._closed.is_set():
                return
            deadline.wait(0.01)

    def close(self, reason: str = "closed here") -> None:
        """Close the connection (idempotent); wakes the reader and stops the writer."""
        if self._closed.is_set():
            return
        self.close_reason = reason
        self._closed.set()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(queue.Full):
            self._outbox.put_nowait(None)
