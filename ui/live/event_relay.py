"""EventRelay: the engine's psygnal events, re-emitted as Qt signals on the GUI thread.

The tracking hub, the frame loop and the GPU monitor fire their events on their own threads
(receiver threads, 'vpstage-frame-loop', 'vpstage-nvml'). The relay is a QObject living on the
GUI thread; its ``_on_*`` methods run on the emitting thread and emit Qt signals, which Qt delivers
to GUI-thread receivers queued (the emitter's thread is not the receiver's). Frame statistics
come at the frame rate: the relay keeps only the latest (a reference swap on the loop thread)
and panels read it from their timers, instead of queueing one event per frame.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from ui.thread_signals import emit_safely
from vpstage.frame_master.frame_stats import FrameStats


class EventRelay(QObject):
    stream_lost = Signal(object)
    """StreamStats of a tracking stream that went silent (GUI thread)."""
    stream_recovered = Signal(object)
    node_down = Signal(str, str)
    """(node, reason) (GUI thread)."""
    node_up = Signal(str)
    output_error = Signal(str, str)
    """(canvas, message) (GUI thread)."""
    loop_stopped = Signal(str)
    """'done', 'stopped' or 'error: ...' (GUI thread)."""
    gpu_sampled = Signal(object)
    """list[GpuSample] (GUI thread)."""
    record_refused = Signal(int)
    """(frame) the take recorder could not take a frame: lost from the take (GUI thread)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.latest_stats: FrameStats | None = None
        """The last frame's statistics (set on the loop thread; read from any thread)."""
        self._connections: list[tuple[Any, Any]] = []

    def attach(self, *, hub: Any = None, loop: Any = None, gpu: Any = None, events: Any = None) -> None:
        """Relay the events of whichever of a TrackingHub, FrameLoop, GpuMonitor and LiveEngine
        events (``LiveEvents``) are given (replacing what was attached before)."""
        self.detach()
        if hub is not None:
            self._link(hub.stream_lost, self._on_stream_lost)
            self._link(hub.stream_recovered, self._on_stream_recovered)
        if loop is not None:
            loop_events = loop.events
            self._link(loop_events.frame_presented, self._on_frame)
            self._link(loop_events.node_down, self._on_node_down)
            self._link(loop_events.node_up, self._on_node_up)
            self._link(loop_events.output_error, self._on_output_error)
            self._link(loop_events.stopped, self._on_stopped)
        if gpu is not None:
            self._link(gpu.sampled, self._on_gpu)
        if events is not None:
            self._link(events.record_refused, self._on_record_refused)

    def detach(self) -> None:
        """Stop relaying (before the engine or the relay goes away)."""
        for signal, slot in self._connections:
            signal.disconnect(slot)
        self._connections = []
        self.latest_stats = None

    def _link(self, signal: Any, slot: Any) -> None:
        signal.connect(slot)
        self._connections.append((signal, slot))

    # Relays: these run on the engine's threads.

    def _on_frame(self, stats: FrameStats) -> None:
        self.latest_stats = stats

    def _on_stream_lost(self, stats: object) -> None:
        emit_safely(self.stream_lost, stats)

    def _on_stream_recovered(self, stats: object) -> None:
        emit_safely(self.stream_recovered, stats)

    def _on_node_down(self, node: str, reason: str) -> None:
        emit_safely(self.node_down, node, reason)

    def _on_node_up(self, node: str) -> None:
        emit_safely(self.node_up, node)

    def _on_output_error(self, canvas: str, message: str) -> None:
        emit_safely(self.output_error, canvas, message)

    def _on_stopped(self, reason: str) -> None:
        emit_safely(self.loop_stopped, reason)

    def _on_gpu(self, samples: object) -> None:
        emit_safely(self.gpu_sampled, samples)

    def _on_record_refused(self, frame: int) -> None:
        emit_safely(self.record_refused, frame)
