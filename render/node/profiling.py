"""Diagnosing a node's missed deadlines: a per-frame timeline and a torch profile of its render thread.

Off unless the node process runs with ``VPSTAGE_NODE_TRACE=DIR`` (a developer's and a support
engineer's switch; the bench scripts set it). Then the node writes, when it stops:

* ``DIR/<node>.timeline.jsonl``: one line per order, times in ms relative to the frame's present
  deadline (negative: before it): when the order arrived, when its render started and ended, when
  its present began and ended sending (``sending``, ``sent``), and whether it made it; the render
  thread's CPU time (``render_cpu_ms``: below the render's wall time when the thread was off its
  core, waiting for the GIL or a busy host; CUDA's waits for the GPU may spin and count as CPU
  time); the deadline itself on the node's monotonic clock (``deadline_ms``); time in the garbage
  collector, splat runners built and Triton kernels compiled since the previous render (from the
  node's ready on; a compile holds the GIL, so it stalls the node's other threads too); and
  ``gil_wait_ms``, how late a thread of the node that wakes every 2 ms woke at worst since the
  previous render, when 2 ms or more (the GIL held by another thread, or the host stalled);
* ``DIR/<node>.profile.txt``: ``torch.profiler`` tables (CPU and device time per operator) over
  ``VPSTAGE_NODE_PROFILE_FRAMES=START:COUNT`` renders (default ``600:60``), so a slow frame can be
  traced to its kernels or to Python;
* ``DIR/<node>.pyprofile.txt`` when ``VPSTAGE_NODE_PYPROFILE=START:COUNT`` is set too: a
  ``cProfile`` of the node's Python over those renders (where the host side of a render goes,
  function by function; the profiler's own overhead inflates call-heavy code). From Python 3.12 on
  ``cProfile`` sees every thread of the process (the present and link threads' sleeps and reads
  too); before, only the render thread's;
* ``DIR/<node>.samples.txt`` when ``VPSTAGE_NODE_SAMPLE=START:COUNT`` is set too: the render
  thread's Python stack sampled every millisecond over those renders (``StackSampler``): time per
  render by function (inclusive) and by line (where the thread was: a line that calls into C,
  such as a device synchronisation, holds the time spent there), without ``cProfile``'s per-call
  overhead.

Costs nothing when off: every hook returns at once.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import sys
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
TRACE_ENV = "VPSTAGE_NODE_TRACE"
FRAMES_ENV = "VPSTAGE_NODE_PROFILE_FRAMES"
PYPROFILE_ENV = "VPSTAGE_NODE_PYPROFILE"
SAMPLE_ENV = "VPSTAGE_NODE_SAMPLE"
GIL_NOTE_MS = 2.0
"""A frame's ``gil_wait_ms`` is noted when the GIL probe woke at least this late."""


class TritonCompiles:
    """Triton kernel variants compiled (or loaded from Triton's disk cache) in this process since
    :func:`count_triton_compiles`: a live frame that meets a new specialization of a kernel (an
    integer argument's divisibility, a pointer's alignment) compiles it, holding the GIL."""

    count = 0
    installed = False


def count_triton_compiles() -> None:
    """Count Triton's compiles from now on, through ``triton.knobs.runtime.jit_post_compile_hook``
    (chained to any hook already there); nothing where Triton is not loaded or has no such hook."""
    runtime = getattr(getattr(sys.modules.get("triton"), "knobs", None), "runtime", None)
    if TritonCompiles.installed or runtime is None or not hasattr(runtime, "jit_post_compile_hook"):
        return
    previous = runtime.jit_post_compile_hook

    def counted(*args: Any, **kwargs: Any) -> Any:
        TritonCompiles.count += 1
        return previous(*args, **kwargs) if previous is not None else None

    try:
        runtime.jit_post_compile_hook = counted
    except Exception as exc:  # a diagnostic never stops the node
        log.warning("Triton's compiles are not counted: %s", exc)
        return
    TritonCompiles.installed = True


class GilProbe:
    """A thread of the node that wakes every ``period_s`` and keeps its latest wake-up since the
    last :meth:`take_worst_ms`. It needs the GIL to run, so a wake-up far later than the host's
    own stalls (``bench/stall_probe.py``, a process of its own) means another thread of this node
    held the GIL: a long call into C that does not release it (a kernel compile, say)."""

    def __init__(self, period_s: float = 0.002) -> None:
        self.period_s = period_s
        self._worst_ms = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vpstage-node-gil-probe", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        due = time.perf_counter() + self.period_s
        while not self._stop.is_set():
            time.sleep(max(0.0, due - time.perf_counter()))
            now = time.perf_counter()
            late_ms = (now - due) * 1e3
            with self._lock:
                self._worst_ms = max(self._worst_ms, late_ms)
            due = max(due + self.period_s, now + self.period_s / 2)  # a long hold is one late wake-up

    def take_worst_ms(self) -> float:
        """The latest wake-up (ms) since the previous call."""
        with self._lock:
            worst, self._worst_ms = self._worst_ms, 0.0
        return worst

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(1.0)


@dataclass(frozen=True)
class RenderWindow:
    """Renders ``start`` .. ``stop - 1`` of a node (counted from 1), from ``"START:COUNT"``."""

    start: int
    stop: int

    @staticmethod
    def parse(spec: str, default_count: int = 300) -> RenderWindow:
        """``"START:COUNT"`` (COUNT defaults to ``default_count``); empty: a window that never opens."""
        start, _, count = spec.partition(":")
        first = int(start) if start else 0
        return RenderWindow(first, first + int(count or default_count))

    @property
    def count(self) -> int:
        return self.stop - self.start

    def opens_at(self, render: int) -> bool:
        return bool(self.start) and render == self.start

    def closes_at(self, render: int) -> bool:
        return bool(self.start) and render == self.stop


class PythonProfile:
    """``cProfile`` over renders ``START`` .. ``START + COUNT - 1`` (``spec`` is ``"START:COUNT"``;
    empty: off), enabled and disabled from the render thread: that thread alone before Python 3.12,
    every thread of the process from 3.12 on (``cProfile`` runs on ``sys.monitoring`` there)."""

    def __init__(self, spec: str) -> None:
        self.window = RenderWindow.parse(spec)
        self._profile: Any = None
        self._text = ""

    def before_render(self, render: int) -> None:
        if self.window.opens_at(render):
            import cProfile

            self._profile = cProfile.Profile()
            self._profile.enable()
        elif self.window.closes_at(render) and self._profile is not None:
            self._finish()

    def _finish(self) -> None:
        import io
        import pstats

        profile, self._profile = self._profile, None
        profile.disable()
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        out.write(f"# renders {self.window.start} .. {self.window.stop - 1}\n\n## by own time\n")
        stats.sort_stats("tottime").print_stats(45)
        out.write("\n## by cumulative time\n")
        stats.sort_stats("cumulative").print_stats(45)
        self._text = out.getvalue()

    def text(self) -> str:
        """The tables, once the window has closed (empty before, or when off)."""
        return self._text


class StackSampler:
    """Samples the render thread's Python stack every ``period_s`` over renders ``START`` ..
    ``START + COUNT - 1`` (``spec`` is ``"START:COUNT"``; empty: off). A thread of its own takes
    each sample (``sys._current_frames``), so it needs the GIL: a sample lands when the render
    thread lets the GIL go (between bytecodes after the switch interval, or in a call that
    releases it), which biases nothing at the resolution of a millisecond."""

    def __init__(self, spec: str, period_s: float = 0.001) -> None:
        self.window = RenderWindow.parse(spec)
        self.period_s = period_s
        self._target: int | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._inclusive: Counter[str] = Counter()
        self._lines: Counter[str] = Counter()
        self._samples = 0
        self._began = 0.0
        self._text = ""

    def before_render(self, render: int) -> None:
        if self.window.opens_at(render):
            self._target, self._began = threading.get_ident(), time.perf_counter()
            self._thread = threading.Thread(target=self._run, name="vpstage-node-sampler", daemon=True)
            self._thread.start()
        elif self.window.closes_at(render) and self._thread is not None:
            self._finish()

    def _run(self) -> None:
        while not self._done.wait(self.period_s):
            frame = sys._current_frames().get(self._target or 0)
            if frame is not None:
                self._record(frame)

    def _record(self, frame: Any) -> None:
        self._samples += 1
        self._lines[f"{_where(frame.f_code.co_filename)}:{frame.f_lineno} {frame.f_code.co_name}"] += 1
        seen = set()
        while frame is not None:
            key = f"{_where(frame.f_code.co_filename)} {frame.f_code.co_name}"
            if key not in seen:
                seen.add(key)
                self._inclusive[key] += 1
            frame = frame.f_back

    def _finish(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(1.0)
        self._thread = None
        window, renders = self.window, self.window.count
        wall_ms = (time.perf_counter() - self._began) * 1e3
        per_sample = wall_ms / max(self._samples, 1) / renders  # ms per render that one sample stands for
        out = [f"# renders {window.start} .. {window.stop - 1}: {self._samples} samples over {wall_ms:.0f} ms "
               f"({wall_ms / renders:.2f} ms per render, idle time between renders included)", ""]
        for title, counts in (("by function, inclusive", self._inclusive), ("by line (where the thread was)",
                                                                            self._lines)):
            out += [f"## {title}: ms per render, share of samples", ""]
            out += [f"{n * per_sample:8.3f}  {100 * n / max(self._samples, 1):5.1f} %  {key}"
                    for key, n in counts.most_common(50)]
            out.append("")
        self._text = "\n".join(out)

    def text(self) -> str:
        """The tables, once the window has closed (empty before, or when off)."""
        return self._text


PROJECT_ROOT = str(Path(__file__).resolve().parents[2]) + "/"


@lru_cache(maxsize=4096)
def _where(filename: str) -> str:
    """``filename`` from the project's root or from ``site-packages`` on (the sampler asks for
    every frame of every sample: each name is worked out once)."""
    for marker in ("/site-packages/", "/lib/python"):
        if marker in filename:
            return filename.rsplit(marker, 1)[1]
    return filename[len(PROJECT_ROOT):] if filename.startswith(PROJECT_ROOT) else filename


class NodeTrace:
    """Timeline and profile of one node (see the module docstring); thread-safe."""

    def __init__(self, node: str, folder: str | None = None, frames: str | None = None) -> None:
        folder = os.environ.get(TRACE_ENV) if folder is None else folder
        self.node = node
        self.folder = Path(folder) if folder else None
        self.profile = RenderWindow.parse(frames or os.environ.get(FRAMES_ENV) or "600:60", default_count=60)
        self._rows: dict[int, dict[str, float | str]] = {}
        self._lock = threading.Lock()
        self._renders = 0
        self._profiler: Any = None
        self._tables = ""
        self._syncs: Any = None
        self._facts: dict[str, float] = {}
        self._gc_ms, self._gc_start = 0.0, 0.0
        self._gil: GilProbe | None = None
        if self.folder is not None:
            gc.callbacks.append(self._on_gc)
        self._sync_seen: list[warnings.WarningMessage] = []
        self._py = PythonProfile(os.environ.get(PYPROFILE_ENV, "")) if self.folder is not None else None
        self._sampler = StackSampler(os.environ.get(SAMPLE_ENV, "")) if self.folder is not None else None

    def note(self, frame: int, what: str, now_ns: int, deadline_ns: int) -> None:
        """Record that ``what`` happened to ``frame`` at ``now_ns`` (node clock)."""
        if self.folder is None:
            return
        with self._lock:
            row = self._rows.setdefault(frame, {})
            row[what] = round((now_ns - deadline_ns) / 1e6, 3)
            row.setdefault("deadline_ms", round(deadline_ns / 1e6, 3))  # on the node's clock: to line
            # the frame up with other processes on the host (bench/stall_probe.py)

    def facts(self, frame: int) -> None:
        """Record what happened in the process since the last call that can stall a render: time
        in the garbage collector, splat rasterizer runners built and graphs captured."""
        if self.folder is None:
            return
        now = self._current_facts()
        delta = {k: round(v - self._facts.get(k, 0), 3) for k, v in now.items() if v != self._facts.get(k, 0)}
        self._facts = now
        if self._gil is not None and (held := self._gil.take_worst_ms()) >= GIL_NOTE_MS:
            delta["gil_wait_ms"] = round(held, 3)
        with self._lock:
            self._rows.setdefault(frame, {}).update(delta)

    def start_facts(self) -> None:
        """Count the facts from now on (the node calls it when it reports ready): what the build
        and warm-up did is not the first frame's."""
        if self.folder is not None:
            count_triton_compiles()
            self._facts = self._current_facts()
            if self._gil is None:
                self._gil = GilProbe()

    def _current_facts(self) -> dict[str, float]:
        raster = sys.modules.get("render.splat.backends.triton_rasterizer")
        events = dict(getattr(raster, "RUNNER_EVENTS", {}))
        return {"gc_ms": round(self._gc_ms, 3), "triton_compiles": TritonCompiles.count,
                **{f"runners_{k}": v for k, v in events.items()}}

    def _on_gc(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self._gc_ms += (time.perf_counter() - self._gc_start) * 1e3

    def cpu_mark(self) -> float:
        """The calling thread's CPU time (s) when tracing, else 0: the start for :meth:`cpu_since`."""
        return time.thread_time() if self.folder is not None else 0.0

    def cpu_since(self, frame: int, what: str, mark: float) -> None:
        """Record the calling thread's CPU time since ``mark`` (ms) as ``what`` of ``frame``."""
        if self.folder is not None:
            self.mark(frame, what, round((time.thread_time() - mark) * 1e3, 3))

    def mark(self, frame: int, what: str, value: str | float) -> None:
        """Record a fact about ``frame`` (e.g. its present's outcome, its render's CPU time)."""
        if self.folder is None:
            return
        with self._lock:
            self._rows.setdefault(frame, {})[what] = value

    def before_render(self) -> None:
        """Called before each render: starts or stops the profile at the window's edges."""
        if self.folder is None:
            return
        self._renders += 1
        if self._py is not None:
            self._py.before_render(self._renders)
        if self._sampler is not None:
            self._sampler.before_render(self._renders)
        if self.profile.opens_at(self._renders):
            self._start_profile()
        elif self.profile.closes_at(self._renders) and self._profiler is not None:
            self._stop_profile()

    def _start_profile(self) -> None:
        import torch

        activities = [torch.profiler.ProfilerActivity.CPU]
        if torch.cuda.is_available():
            activities.append(torch.profiler.ProfilerActivity.CUDA)
        if torch.cuda.is_available():  # every host<->device synchronisation: where, how often
            self._syncs = warnings.catch_warnings(record=True)
            self._sync_seen = self._syncs.__enter__()
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
        try:
            self._profiler = torch.profiler.profile(activities=activities)
            self._profiler.__enter__()
        except Exception as exc:  # a diagnostic never stops the node
            log.warning("node %s: profiler did not start: %s", self.node, exc)
            self._profiler = None

    def _stop_profile(self) -> None:
        profiler, self._profiler = self._profiler, None
        syncs = self._stop_sync_watch()
        try:
            profiler.__exit__(None, None, None)
            averages = profiler.key_averages()
            device = "self_cuda_time_total" if any(getattr(a, "self_device_time_total", 0) for a in averages) \
                else "self_cpu_time_total"
            self._tables = (f"# {self.profile.count} renders from the {self.profile.start}th\n\n"
                            f"## by self CPU time\n{averages.table(sort_by='self_cpu_time_total', row_limit=45)}\n"
                            f"## by {device}\n{averages.table(sort_by=device, row_limit=45)}\n"
                            f"## host-device synchronisations (where, how many)\n{syncs}\n")
        except Exception as exc:
            log.warning("node %s: profiler failed: %s", self.node, exc)

    def _stop_sync_watch(self) -> str:
        if self._syncs is None:
            return "(not watched)"
        import torch

        torch.cuda.set_sync_debug_mode("default")
        watch, self._syncs = self._syncs, None
        with contextlib.suppress(Exception):
            watch.__exit__(None, None, None)
        seen = self._sync_seen
        places = Counter(f"{w.filename}:{w.lineno}" for w in seen if "synchroniz" in str(w.message))
        return "\n".join(f"{count:6d}  {place}" for place, count in places.most_common(40)) or "none"

    def write(self) -> None:
        """Write the timeline and the profile (on stop)."""
        if self.folder is None:
            return
        if self._profiler is not None:
            self._stop_profile()
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._gil is not None:
            self._gil.stop()
            self._gil = None
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            rows = [{"frame": frame, **row} for frame, row in sorted(self._rows.items())]
        lines = "".join(json.dumps(row) + "\n" for row in rows)
        (self.folder / f"{self.node}.timeline.jsonl").write_text(lines)
        if self._tables:
            (self.folder / f"{self.node}.profile.txt").write_text(self._tables)
        if self._py is not None and (text := self._py.text()):
            (self.folder / f"{self.node}.pyprofile.txt").write_text(text)
        if self._sampler is not None and (text := self._sampler.text()):
            (self.folder / f"{self.node}.samples.txt").write_text(text)
