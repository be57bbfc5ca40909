"""How a live engine is put together: rehearsal or a real tracker, cluster, outputs, quality."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from vpstage.frame_master.task_assigner import AssignerSettings
from vpstage.nodes import RenderQuality
from vpstage.takes.frame_records import FrameRecord

SCENE_RENDERER = "render.scene:build_scene_renderer"
DEMO_SCENE = "procedural:demo"
SIMULATED_PATHS = ("orbit", "dolly", "crane", "handheld", "static")
CPU_STALL_S = 20.0
TRACKER_LEAD_MS = 2.0
"""A genlocked simulated tracker sends each sample this long before the frame instant."""


@dataclass(frozen=True)
class ReplaySpec:
    """Replay one camera of a recorded take as its tracker (see ``devices.tracking.take_replay``)."""

    frames: Sequence[FrameRecord]
    camera: str


@dataclass(frozen=True, kw_only=True)
class LiveOptions:
    """Everything about a live engine that is not in the project file.

    ``simulate`` names a scripted camera move (``orbit``, ``dolly``, ``crane``, ``handheld``,
    ``static``): the first camera's tracker then listens on a free loopback port and a
    ``TrackerSimulator`` sends it real packets (its source's protocol) at ``simulate_rate_hz``.
    ``replay`` does the same with a recorded take. ``trackers`` replace the addresses of the
    project's tracking sources, in project order (``udp://HOST:PORT``). ``scene`` replaces the
    project's scene assets with one asset (a file path, or ``procedural:demo``); a rehearsal of a
    stage without scene assets shows the demo scene. ``takes_db`` opens a take recorder on that
    database (None: no recorder; see ``default_takes_db``).
    """

    rehearsal: bool = False
    """Simulated tracker (``simulate``, default ``orbit``) and the demo scene when there is none."""
    simulate: str | None = None
    simulate_rate_hz: float = 60.0
    genlock: bool = True
    """Genlock the frame clock to the simulated (or replayed) tracker when it runs at the stage
    rate, as on a stage where both follow house sync (``FrameClock.genlock``)."""
    replay: ReplaySpec | None = None
    trackers: tuple[str, ...] = ()
    scene: str | None = None
    cluster: Literal["local", "ray", "threads"] | None = None
    """None: the project's ``cluster.backend``."""
    outputs: Literal["ndi", "none"] = "ndi"
    fourcc: Literal["BGRX", "UYVY"] = "UYVY"
    """Pixel format of the NDI senders (UYVY is NDI's native format; the nodes pack it on their GPU)."""
    ndi_prefix: str = "vpstage"
    quality: RenderQuality = field(default_factory=RenderQuality)
    """Inner / outer render resolution factors. On CPU-only machines keep them small (and the
    canvases: ``vpstage.stage.scaling.scaled_stage``): the torch reference rasterizer needs
    ~0.1-0.2 s per 240 x 135 canvas in view at ``inner_scale=0.25``; a full-size outer cube map
    (``outer_scale=1``, ~2300 px faces for the demo stage) takes minutes there."""
    far_m: float = 100.0
    scene_renderer: str | None = SCENE_RENDERER
    """``module:factory`` of the workers' scene engine (None: test patterns only)."""
    takes_db: Path | None = None
    gpu_telemetry: bool = True
    videohub: bool = True
    """Start the project's Videohub router when it declares one."""
    frames: int | None = None
    """Stop after this many frames (None: run until ``stop``)."""
    timecode_master: Literal["internal", "ltc", "tracker"] | None = None
    """What the frame clock follows (None: the project's ``timecode.master``; see
    ``devices.timecode.master``)."""
    ltc_file: str | None = None
    """Replay this WAV file's LTC in real time as the master (instead of the project's LTC input)."""
    ltc_simulate_ppm: float | None = None
    """A simulated house LTC generator running this many ppm fast as the master (rehearsal)."""
    assign_tiles: bool | None = None
    """Move bands of overloaded nodes' heavy camera views to nodes with time to spare (None: the
    project's ``cluster.assign_tiles``)."""
    deadline_ms: float | None = None
    """Present deadline after each frame instant, ms (None: the project's ``cluster.deadline_ms``,
    itself one period when unset). A few ms over the period give renders a margin at the cost of as
    much latency (docs/frameloop.md, "Frame lock")."""
    assigner: AssignerSettings | None = None
    """The assigner's settings when it runs (None: its defaults)."""
    stall_frames: int | None = None
    """Frames without an answer before a worker is restarted. None: the project's
    ``cluster.stall_frames``, except on stages whose nodes all render on the CPU, where scene
    renders take seconds (torch reference rasterizer): there ``CPU_STALL_S`` worth of frames."""

    @property
    def simulated_path(self) -> str | None:
        """The scripted move to send, or None when a real tracker (or a replay) drives the camera."""
        if self.replay is not None:
            return None
        return self.simulate or ("orbit" if self.rehearsal else None)

    def check(self) -> None:
        """Raise ValueError for contradictory options."""
        if self.simulate is not None and self.simulate not in SIMULATED_PATHS:
            raise ValueError(f"unknown simulated move {self.simulate!r}; use one of {', '.join(SIMULATED_PATHS)}")
        if self.replay is not None and self.simulate is not None:
            raise ValueError("replay a take or simulate a move, not both")
        if (self.simulate is not None or self.replay is not None) and self.trackers:
            raise ValueError("a simulated or replayed tracker replaces the tracker addresses; give one or the other")
        if self.frames is not None and self.frames < 1:
            raise ValueError("frames must be at least 1")
        if self.stall_frames is not None and self.stall_frames < 1:
            raise ValueError("stall_frames must be at least 1")
        if self.ltc_file is not None and self.ltc_simulate_ppm is not None:
            raise ValueError("replay an LTC file or simulate LTC, not both")
        if (self.ltc_file is not None or self.ltc_simulate_ppm is not None) \
                and self.timecode_master not in (None, "ltc"):
            raise ValueError(f"an LTC file or simulated LTC needs the ltc timecode master, not {self.timecode_master}")
        if self.ltc_simulate_ppm is not None and not abs(self.ltc_simulate_ppm) <= 1000:
            raise ValueError("simulated LTC drift must be within +/-1000 ppm")


def default_takes_db(stage_file: Path) -> Path:
    """The project's takes database: ``<project dir>/takes/takes.sqlite``."""
    from vpstage.takes.database import default_db_path

    return default_db_path(stage_file)
