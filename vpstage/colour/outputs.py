"""What a canvas's output transform is: an OCIO display + view, or a named colour space.

A canvas may leave ``display`` and ``view`` out: the encoding (``sdr`` or ``pq``) and, for PQ,
``peak_nits`` pick them from the config. PQ displays are told by name (``PQ``, ``ST2084``); a
view's peak luminance by the ``N nits`` in its name, as the ACES configs spell them
("ACES 1.1 - HDR Video (1000 nits & Rec.2020 lim)", "ACES 2.0 - HDR 1000 nits (P3 D65)").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vpstage.colour.ocio_config import (
    OcioConfig,
    choices,
    colour_space_names,
    display_colour_space,
    display_names,
    has_colour_space,
    view_names,
)
from vpstage.colour.settings import CanvasColour

_PQ_RE = re.compile(r"(?<![A-Za-z])(PQ|ST[- _.]?2084)(?![A-Za-z])", re.IGNORECASE)
_NITS_RE = re.compile(r"(\d+(?:\.\d+)?)\s*nits", re.IGNORECASE)


class OutputError(ValueError):
    """A canvas output that the config cannot give; ``field`` is the CanvasColour field to blame."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class OutputTarget:
    """Where a canvas's transform ends: ``display`` + ``view``, or ``colour_space``."""

    display: str | None = None
    view: str | None = None
    colour_space: str | None = None

    def describe(self) -> str:
        return self.colour_space if self.colour_space is not None else f"{self.display} / {self.view}"


def view_peak_nits(view: str) -> float | None:
    """The peak luminance a view's name states (``... 1000 nits ...``), or None."""
    match = _NITS_RE.search(view)
    return float(match.group(1)) if match else None


def _says_pq(*texts: str) -> bool:
    return any(_PQ_RE.search(text) for text in texts)


def is_pq_colour_space(config: OcioConfig, name: str) -> bool:
    space = config.getColorSpace(name)
    return space is not None and _says_pq(str(space.getName()), str(space.getFamily()))


def is_pq_display(config: OcioConfig, display: str) -> bool:
    """The display encodes ST 2084 (its name, or its default view's display colour space, says so)."""
    if _says_pq(display):
        return True
    space = display_colour_space(config, display, str(config.getDefaultView(display)))
    return space is not None and _says_pq(str(space.getName()), str(space.getFamily()))


def _views_at(config: OcioConfig, display: str, peak: float) -> list[str]:
    return [v for v in view_names(config, display) if view_peak_nits(v) == peak]


def _pq_display_for(config: OcioConfig, peak: float) -> str:
    pq = [d for d in display_names(config) if is_pq_display(config, d)]
    if not pq:
        raise OutputError("encoding", "the config has no PQ (ST 2084) display; displays: "
                          + choices("PQ", display_names(config)))
    for display in pq:
        if _views_at(config, display, peak):
            return display
    offered = sorted({n for d in pq for v in view_names(config, d) if (n := view_peak_nits(v)) is not None})
    raise OutputError("peak_nits", f"no PQ view of this config tone-maps to {peak:g} nits; its PQ views are for "
                      + ", ".join(f"{n:g}" for n in offered) + " nits")


def _default_display(config: OcioConfig, canvas: CanvasColour) -> str:
    if canvas.encoding == "pq":
        return _pq_display_for(config, canvas.peak_nits)
    default = str(config.getDefaultDisplay())
    if not is_pq_display(config, default):
        return default
    sdr = [d for d in display_names(config) if not is_pq_display(config, d)]
    if not sdr:
        raise OutputError("encoding", "the config has only PQ displays; set encoding: pq")
    return sdr[0]


def _default_view(config: OcioConfig, display: str, canvas: CanvasColour) -> str:
    default = str(config.getDefaultView(display))
    if canvas.encoding != "pq" or view_peak_nits(default) == canvas.peak_nits:
        return default
    views = _views_at(config, display, canvas.peak_nits)
    if not views:
        raise OutputError("peak_nits", f"display {display!r} has no view for {canvas.peak_nits:g} nits; its views: "
                          + choices(f"{canvas.peak_nits:g} nits", view_names(config, display)))
    return views[0]


def _check_display(config: OcioConfig, display: str, canvas: CanvasColour) -> None:
    displays = display_names(config)
    if display not in displays:
        raise OutputError("display", f"unknown display {display!r}; displays: {choices(display, displays)}")
    pq = is_pq_display(config, display)
    if canvas.encoding == "pq" and not pq:
        raise OutputError("encoding", f"display {display!r} is not a PQ (ST 2084) display; PQ displays: "
                          + choices("PQ", [d for d in display_names(config) if is_pq_display(config, d)]))
    if canvas.encoding == "sdr" and pq:
        raise OutputError("encoding", f"display {display!r} is a PQ display: set encoding: pq (and peak_nits)")


def _check_view(config: OcioConfig, display: str, view: str, canvas: CanvasColour) -> None:
    views = view_names(config, display)
    if view not in views:
        raise OutputError("view", f"display {display!r} has no view {view!r}; its views: {choices(view, views)}")
    peak = view_peak_nits(view)
    if canvas.encoding == "pq" and peak is not None and peak != canvas.peak_nits:
        at_peak = _views_at(config, display, canvas.peak_nits)
        hint = f"views for {canvas.peak_nits:g} nits: {choices(view, at_peak)}" if at_peak else \
            f"the display has no view for {canvas.peak_nits:g} nits"
        raise OutputError("peak_nits", f"view {view!r} tone-maps to {peak:g} nits, not peak_nits "
                          f"{canvas.peak_nits:g}; {hint}")


def _named_space(config: OcioConfig, canvas: CanvasColour) -> OutputTarget:
    name = canvas.colour_space or ""
    if not has_colour_space(config, name):
        raise OutputError("colour_space", f"unknown colour space {name!r}; colour spaces: "
                          f"{choices(name, colour_space_names(config))}")
    if (canvas.encoding == "pq") != is_pq_colour_space(config, name):
        wanted = "a PQ (ST 2084)" if canvas.encoding == "pq" else "an SDR"
        raise OutputError("encoding", f"colour space {name!r} is not {wanted} encoding; set encoding to match it")
    return OutputTarget(colour_space=name)


def resolve_output(config: OcioConfig, canvas: CanvasColour) -> OutputTarget:
    """The display + view (or colour space) ``canvas`` sends; OutputError names what is wrong."""
    if canvas.colour_space is not None:
        return _named_space(config, canvas)
    display = canvas.display if canvas.display is not None else _default_display(config, canvas)
    _check_display(config, display, canvas)
    view = canvas.view if canvas.view is not None else _default_view(config, display, canvas)
    _check_view(config, display, view, canvas)
    return OutputTarget(display=display, view=view)
