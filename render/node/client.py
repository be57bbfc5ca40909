"""A render node's life: connect to the frame master, say hello, build itself, serve frames.

The same function runs in a process of its own (``python -m render.node``), inside a Ray actor, or
on a thread of the master's process (tests): :func:`serve_node`.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Callable

from render.node.runtime import NodeRuntime
from vpstage.nodes.channel import Channel, ChannelClosed
from vpstage.nodes.clock_sync import boot_id
from vpstage.nodes.failures import failure_text
from vpstage.nodes.messages import Configure, Failed, Hello, Ready
from vpstage.timing import TimeSource

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 10.0


def connect(master: str, node: str, generation: int, token: str) -> tuple[Channel, Configure]:
    """Connect to ``master`` (``host:port``), introduce this node and receive its configuration."""
    host, _, port = master.rpartition(":")
    sock = socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S)
    channel = Channel(sock, f"vpstage-node-{node}")
    channel.send_now(Hello(node=node, generation=generation, token=token, pid=os.getpid(),
                           host=socket.gethostname(), boot_id=boot_id()))
    message = channel.recv()
    if not isinstance(message, Configure):
        channel.close("no configuration")
        raise ChannelClosed(f"the master answered {type(message).__name__}, not Configure")
    return channel, message


def serve_node(master: str, node: str, generation: int, token: str, time_source: TimeSource | None = None,
               on_channel: Callable[[Channel], None] | None = None) -> int:
    """Run one render node until the master stops it. Returns an exit code (0: stopped cleanly).
    ``on_channel`` receives the link once connected (a thread node's ``kill`` closes it)."""
    try:
        channel, configure = connect(master, node, generation, token)
    except (OSError, ChannelClosed) as exc:
        log.error("node %s: cannot reach the frame master at %s: %s", node, master, exc)
        return 3
    if on_channel is not None:
        on_channel(channel)
    runtime = NodeRuntime(channel, configure, time_source)
    try:
        info = runtime.build()
    except Exception as exc:
        channel.send(Failed(f"{failure_text(exc)}"))
        channel.flush(2.0)
        channel.close("build failed")
        return 4
    channel.send(Ready(info))
    runtime.run()
    if runtime.fatal:
        print(f"node {node}: {runtime.fatal}", file=sys.stderr)
        return 5
    return 0
