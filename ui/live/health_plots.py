"""The health panel's plots (pyqtgraph): render time per node, frame timing, tracking, GPU.

Every curve is fed from a ring buffer on the panel's timer (never per sample), with peak
downsampling and clipping to the visible range, as pyqtgraph's scrolling-plot example does.
Colours: render nodes keep the colours they have in the 3D view and the pixel map.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray

from ui import palette

BACKGROUND = "#0f1115"
AXIS = "#9aa3af"
GPU_COLOURS = ("#2bb7c4", "#e0a526", "#9b7bea", "#5cc45a", "#4f8fe8", "#e07bb6", "#c9c95b", "#e08a5b")


def hex_colour(rgba: palette.RGBA) -> str:
    r, g, b, _a = (round(v * 255) for v in rgba)
    return f"#{r:02x}{g:02x}{b:02x}"


def _plot(layout: pg.GraphicsLayoutWidget, title: str, y_label: str) -> pg.PlotItem:
    plot: pg.PlotItem = layout.addPlot()
    plot.setTitle(title, color=AXIS, size="9pt")
    plot.setDownsampling(auto=True, mode="peak")
    plot.setClipToView(True)
    plot.showGrid(x=True, y=True, alpha=0.15)
    plot.setLabel("left", y_label)
    plot.setMenuEnabled(False)
    plot.addLegend(offset=(6, 2), labelTextSize="8pt", colCount=6, verSpacing=-6)
    for axis in ("left", "bottom"):
        plot.getAxis(axis).setTextPen(AXIS)
    layout.nextRow()
    return plot


class HealthPlots(pg.GraphicsLayoutWidget):  # type: ignore[misc]  # pyqtgraph is untyped
    """Four stacked plots; ``curves`` maps a series key to its PlotDataItem."""

    def __init__(self) -> None:
        super().__init__()
        self.setBackground(BACKGROUND)
        self.render_plot = _plot(self, "Render time per node", "ms")
        self.frame_plot = _plot(self, "Frame timing", "ms")
        self.tracking_plot = _plot(self, "Tracking", "ms")
        self.gpu_plot = _plot(self, "GPU utilisation", "%")
        self.gpu_plot.setYRange(0, 100)
        self.deadline = pg.InfiniteLine(angle=0, pen=pg.mkPen("#ff3b30", width=1, style=pg.QtCore.Qt.PenStyle.DashLine))
        self.render_plot.addItem(self.deadline)
        self.no_gpu = pg.TextItem("", color="#e0a526", anchor=(0.5, 0.5))
        self.gpu_plot.addItem(self.no_gpu)
        self.curves: dict[str, pg.PlotDataItem] = {}

    def curve(self, plot: pg.PlotItem, key: str, name: str, colour: str, width: float = 1.5) -> pg.PlotDataItem:
        """The curve for ``key`` (created on first use)."""
        item = self.curves.get(key)
        if item is None:
            item = plot.plot(name=name, pen=pg.mkPen(colour, width=width), connect="finite")
            self.curves[key] = item
        return item

    def clear_curves(self) -> None:
        for plot in (self.render_plot, self.frame_plot, self.tracking_plot, self.gpu_plot):
            for item in list(plot.listDataItems()):
                plot.removeItem(item)
            if plot.legend is not None:
                plot.legend.clear()
        self.curves.clear()

    def set_frame_series(self, frames: NDArray[np.float64], nodes: Sequence[tuple[str, palette.RGBA]],
                         render: Sequence[NDArray[np.float64]], skew: NDArray[np.float64],
                         plan: NDArray[np.float64], period_ms: float) -> None:
        for (node, colour), values in zip(nodes, render, strict=True):
            self.curve(self.render_plot, f"render:{node}", node, hex_colour(colour)).setData(frames, values)
        self.deadline.setValue(period_ms)
        self.curve(self.frame_plot, "skew", "present skew", "#ffffff").setData(frames, skew)
        self.curve(self.frame_plot, "plan", "plan", "#4f8fe8").setData(frames, plan)

    def set_tracking_series(self, camera: str, seconds: NDArray[np.float64], age: NDArray[np.float64],
                            jitter: NDArray[np.float64]) -> None:
        self.curve(self.tracking_plot, f"age:{camera}", f"{camera} age", "#38e0ff").setData(seconds, age)
        self.curve(self.tracking_plot, f"jitter:{camera}", f"{camera} jitter", "#e07bb6").setData(seconds, jitter)

    def set_gpu_series(self, index: int, seconds: NDArray[np.float64], utilisation: NDArray[np.float64]) -> None:
        colour = GPU_COLOURS[index % len(GPU_COLOURS)]
        self.curve(self.gpu_plot, f"gpu:{index}", f"GPU {index}", colour).setData(seconds, utilisation)

    def show_no_gpu(self, reason: str | None) -> None:
        """A clear 'no GPU' notice over the GPU plot (None hides it)."""
        self.no_gpu.setText(reason or "")  # e.g. "no GPU telemetry: NVML is unavailable (...)"
        self.no_gpu.setVisible(bool(reason))
        if reason:
            self.gpu_plot.setXRange(0, 1)
            self.no_gpu.setPos(0.5, 50)
