"""Starting render nodes on this machine: one OS process per node (the default), or a thread of
the master's own process (tests, where a fake clock or a quick start matters more than isolation).

A process node runs ``python -m render.node`` in a session of its own, sees only its own GPU
(``CUDA_VISIBLE_DEVICES``, so it renders on ``cuda:0``), and gets the cluster token in its
environment. In loopback mode it runs with ``devices.outputs.loopback_bind`` preloaded, so its
NDI senders listen on 127.0.0.1 only. CPU nodes on one machine share its cores
(``OMP_NUM_THREADS``). ``kill`` is SIGKILL: the node's sockets close with it, which is how the
master notices within a frame.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from devices.outputs.loopback_bind import loopback_preload
from render.node.__main__ import TOKEN_ENV
from vpstage.nodes.spec import NodeSpec
from vpstage.timing import TimeSource

REPO_ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger(__name__)


def visible_device(spec: NodeSpec) -> str:
    """The device a node process that sees only its own GPU renders on."""
    return "cpu" if spec.gpu is None else "cuda:0"


def _pythonpath() -> str:
    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join([str(REPO_ROOT), *(p for p in inherited if p != str(REPO_ROOT))])


class LocalProcess:
    """A node process started by :class:`ProcessLauncher` (a ``NodeProcess``)."""

    def __init__(self, popen: subprocess.Popen[bytes], node: str) -> None:
        self.popen, self.node = popen, node

    @property
    def pid(self) -> int | None:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.popen.send_signal(signal.SIGKILL)

    def wait(self, timeout_s: float) -> bool:
        try:
            self.popen.wait(timeout=max(0.0, timeout_s))
        except subprocess.TimeoutExpired:
            return False
        return True

    def exit_text(self) -> str:
        code = self.popen.poll()
        if code is None:
            return ""
        if code < 0:
            return f"killed by {signal.Signals(-code).name}"
        return f"exit code {code}"


class ProcessLauncher:
    """One local process per node (``cluster.backend: local``)."""

    def __init__(self, cpu_nodes: int = 1, loopback: bool = True) -> None:
        self.cpu_threads = max(1, (os.cpu_count() or 1) // max(1, cpu_nodes))
        self.preload: Path | None = None
        self.preload_note = ""
        if loopback:  # rehearsal: the NDI listeners of the node process stay on 127.0.0.1
            self.preload, self.preload_note = loopback_preload()
            if self.preload is None:
                log.warning("render nodes' NDI senders will listen on every interface: %s", self.preload_note)
        self._processes: list[LocalProcess] = []

    def device_for(self, spec: NodeSpec) -> str:
        return visible_device(spec)

    def launch(self, spec: NodeSpec, generation: int, master: str, token: str) -> LocalProcess:
        env = dict(os.environ)
        env[TOKEN_ENV] = token
        env["PYTHONPATH"] = _pythonpath()
        if self.preload is not None:
            env["LD_PRELOAD"] = os.pathsep.join([str(self.preload), *filter(None, [env.get("LD_PRELOAD")])])
        if spec.gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = str(spec.gpu)
        else:
            env.setdefault("OMP_NUM_THREADS", str(self.cpu_threads))
        command = [sys.executable, "-m", "render.node", "--master", master, "--node", spec.node,
                   "--generation", str(generation)]
        popen = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, start_new_session=True)
        process = LocalProcess(popen, spec.node)
        self._processes.append(process)
        return process

    def close(self) -> None:
        for process in self._processes:
            process.kill()
            process.wait(2.0)
        self._processes.clear()


class ThreadNode:
    """A node served on a thread of this process (a ``NodeProcess``); ``kill`` cuts its link."""

    def __init__(self, spec: NodeSpec, generation: int, master: str, token: str,
                 time_source: TimeSource | None) -> None:
        from render.node.client import serve_node

        self.node = spec.node
        self.code: int | None = None
        self._channel: object | None = None

        def run() -> None:
            self.code = serve_node(master, spec.node, generation, token, time_source, on_channel=self._keep)

        self._thread = threading.Thread(target=run, name=f"vpstage-node-{spec.node}-{generation}", daemon=True)
        self._thread.start()

    def _keep(self, channel: object) -> None:
        self._channel = channel

    @property
    def pid(self) -> int | None:
        return os.getpid()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def kill(self) -> None:
        close = getattr(self._channel, "close", None)
        if callable(close):
            close("killed")

    def wait(self, timeout_s: float) -> bool:
        self._thread.join(max(0.0, timeout_s))
        return not self._thread.is_alive()

    def exit_text(self) -> str:
        return "" if self.alive() else f"exit code {self.code}"


class ThreadLauncher:
    """Nodes on threads of this process (``cluster.backend: threads``; tests)."""

    def __init__(self, time_source: TimeSource | None = None) -> None:
        self.time_source = time_source
        self._nodes: list[ThreadNode] = []

    def device_for(self, spec: NodeSpec) -> str:
        return spec.device

    def launch(self, spec: NodeSpec, generation: int, master: str, token: str) -> ThreadNode:
        node = ThreadNode(spec, generation, master, token, self.time_source)
        self._nodes.append(node)
        return node

    def close(self) -> None:
        for node in self._nodes:
            node.kill()
            node.wait(5.0)
        self._nodes.clear()
