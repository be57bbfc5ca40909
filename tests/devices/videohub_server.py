"""A Videohub stand-in for tests that speaks the real Ethernet protocol (reference §4) on 127.0.0.1.

On connect it sends the state dump (preamble, device, labels, locks, routing, configuration,
END PRELUDE); it answers each client block with ACK or NAK and pushes changed routing / lock
blocks to every connected client. Tests steer it: lock an output for another client (its routing is then
refused with NAK), switch a route as a front panel would, or drop every connection.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class VideohubServer:
    def __init__(self, inputs: int = 12, outputs: int = 12) -> None:
        self.inputs, self.outputs = inputs, outputs
        self.routing = {o: 0 for o in range(outputs)}
        self.input_labels = {i: f"Input {i + 1}" for i in range(inputs)}
        self.output_labels = {o: f"Output {o + 1}" for o in range(outputs)}
        self.lock_owner: dict[int, str] = {}
        self.requests: list[str] = []
        self._clients: dict[socket.socket, str] = {}
        self._mutex = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._running = True
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ test controls

    def lock(self, output: int, owner: str = "front panel") -> None:
        with self._mutex:
            self.lock_owner[output] = owner
            self._push_locks([output])

    def unlock(self, output: int) -> None:
        with self._mutex:
            self.lock_owner.pop(output, None)
            self._push_locks([output])

    def panel_route(self, output: int, source: int) -> None:
        """Another client (a front panel) changes a route."""
        with self._mutex:
            self.routing[output] = source
            self._broadcast(f"VIDEO OUTPUT ROUTING:\n{output} {source}\n\n")

    def drop_all(self) -> None:
        with self._mutex:
            for client in list(self._clients):
                self._close(client)

    def client_count(self) -> int:
        with self._mutex:
            return len(self._clients)

    def stop(self) -> None:
        self._running = False
        self._listener.close()
        self.drop_all()

    # ------------------------------------------------------------------ protocol

    def _accept(self) -> None:
        while self._running:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._mutex:
                name = f"client{len(self.requests)}-{client.fileno()}"
                self._clients[client] = name
                client.sendall(self._dump(name).encode())
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _dump(self, client: str) -> str:
        def block(header: str, lines: list[str]) -> str:
            return header + ":\n" + "".join(line + "\n" for line in lines) + "\n"

        return "".join([
            block("PROTOCOL PREAMBLE", ["Version: 2.7"]),
            block("VIDEOHUB DEVICE", ["Device present: true", "Model name: Test Videohub 12x12",
                                      "Friendly name: Stage router", "Unique ID: 7C2E0D000001",
                                      f"Video inputs: {self.inputs}", "Video processing units: 0",
                                      f"Video outputs: {self.outputs}", "Video monitoring outputs: 0",
                                      "Serial ports: 0"]),
            block("INPUT LABELS", [f"{i} {label}" for i, label in self.input_labels.items()]),
            block("OUTPUT LABELS", [f"{o} {label}" for o, label in self.output_labels.items()]),
            block("VIDEO OUTPUT LOCKS", [f"{o} {self._lock_letter(o, client)}" for o in range(self.outputs)]),
            block("VIDEO OUTPUT ROUTING", [f"{o} {i}" for o, i in self.routing.items()]),
            block("CONFIGURATION", ["Take Mode: false"]),
            "END PRELUDE:\n\n",
        ])

    def _lock_letter(self, output: int, client: str) -> str:
        owner = self.lock_owner.get(output)
        return "U" if owner is None else ("O" if owner == client else "L")

    def _serve(self, client: socket.socket) -> None:
        buffer = b""
        while True:
            try:
                chunk = client.recv(4096)
            except OSError:
                break
            if not chunk:
                break
            buffer += chunk.replace(b"\r\n", b"\n")
            while b"\n\n" in buffer:
                raw, _, buffer = buffer.partition(b"\n\n")
                with self._mutex:
                    if client in self._clients:
                        self._answer(client, raw.decode().split("\n"))
        with self._mutex:
            self._close(client)

    def _answer(self, client: socket.socket, lines: list[str]) -> None:
        header, body = lines[0].strip(), [line for line in lines[1:] if line.strip()]
        self.requests.append(header)
        if header == "PING:":
            client.sendall(b"ACK\n\n")
        elif header == "VIDEO OUTPUT ROUTING:" and body:
            self._route(client, body)
        elif header == "VIDEO OUTPUT ROUTING:":
            client.sendall(("ACK\n\nVIDEO OUTPUT ROUTING:\n" + "".join(
                f"{o} {i}\n" for o, i in self.routing.items()) + "\n").encode())
        else:
            client.sendall(b"NAK\n\n")

    def _route(self, client: socket.socket, body: list[str]) -> None:
        pairs = [tuple(int(v) for v in line.split()) for line in body]
        me = self._clients[client]
        refused = any(
            not (0 <= o < self.outputs and 0 <= i < self.inputs) or self._lock_letter(o, me) == "L"
            for o, i in pairs)
        if refused:
            client.sendall(b"NAK\n\n")
            return
        for o, i in pairs:
            self.routing[o] = i
        client.sendall(b"ACK\n\n")
        self._broadcast("VIDEO OUTPUT ROUTING:\n" + "".join(f"{o} {i}\n" for o, i in pairs) + "\n")

    def _push_locks(self, outputs: list[int]) -> None:
        for client, name in list(self._clients.items()):
            text = "VIDEO OUTPUT LOCKS:\n" + "".join(f"{o} {self._lock_letter(o, name)}\n" for o in outputs) + "\n"
            self._send(client, text)

    def _broadcast(self, text: str) -> None:
        for client in list(self._clients):
            self._send(client, text)

    def _send(self, client: socket.socket, text: str) -> None:
        try:
            client.sendall(text.encode())
        except OSError:
            self._close(client)

    def _close(self, client: socket.socket) -> None:
        self._clients.pop(client, None)
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_RDWR)
        client.close()
