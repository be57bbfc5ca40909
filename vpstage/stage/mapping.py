"""Auto-layout: pack cabinets into canvases and processor ports.

Strategy (what a technician would do by hand, written down):

1. Cabinets are taken section by section in project order, and within a section row by row from
   the top, left to right as seen from the front: the order a data cable usually runs.
2. Canvases are filled in project order with shelf packing: a cabinet goes right of the previous
   one on the current shelf; when the shelf is full a new shelf starts below, its height the
   tallest cabinet on it; when the canvas is full the next canvas starts. A new section, or a
   new row of a section, starts a new shelf so the canvas reads like the wall; a new section
   starts on the next unused canvas while there is one, so each canvas holds whole sections.
3. Each canvas's processor ports fill in the same order: a cabinet joins the current port unless
   that would exceed the port's capacity at the stage rate and bit depth, then the next port.
4. Runs of cabinets that end up side by side (same section, consecutive columns, same shelf, same
   port) are written as one ``block`` entry, and identical blocks stacked row under row are merged,
   so a regular wall becomes a handful of readable lines.

Raises LayoutError when the cabinets do not fit the canvases or ports.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from vpstage.stage.layout import StageLayout
from vpstage.stage.model import BlockRef, Canvas, MapEntry, Processor


class LayoutError(ValueError):
    pass


@dataclass(kw_only=True)
class _Placed:
    cabinet: int
    canvas: int
    x: int
    y: int
    port: int | None


class _Cursor:
    def __init__(self, canvases: list[Canvas]) -> None:
        self.canvases = canvases
        self.canvas, self.x, self.y, self.shelf_h = 0, 0, 0, 0

    def new_shelf(self) -> None:
        if self.x > 0:
            self.x, self.y, self.shelf_h = 0, self.y + self.shelf_h, 0

    def new_section(self) -> None:
        used = self.x > 0 or self.y > 0
        if used and self.canvas + 1 < len(self.canvases):
            self.canvas, self.x, self.y, self.shelf_h = self.canvas + 1, 0, 0, 0
        else:
            self.new_shelf()

    def place(self, w: int, h: int) -> tuple[int, int, int]:
        while self.canvas < len(self.canvases):
            c = self.canvases[self.canvas]
            if self.x + w > c.width:
                self.new_shelf()
            if self.x + w <= c.width and self.y + h <= c.height:
                spot = (self.canvas, self.x, self.y)
                self.x += w
                self.shelf_h = max(self.shelf_h, h)
                return spot
            if self.x == 0 and self.y == 0:
                raise LayoutError(f"cabinet of {w}x{h} px does not fit canvas {c.name} ({c.width}x{c.height})")
            self.canvas, self.x, self.y, self.shelf_h = self.canvas + 1, 0, 0, 0
        raise LayoutError("the cabinets do not fit the canvases; add canvases or make them larger")


class _Ports:
    def __init__(self, processors: dict[str, Processor], rate: Fraction) -> None:
        self.processors, self.rate = processors, rate
        self.state: dict[str, tuple[int, int]] = {}  # processor -> (port, load)

    def assign(self, canvas: Canvas, pixels: int) -> int | None:
        if canvas.processor is None or canvas.processor not in self.processors:
            return None
        proc = self.processors[canvas.processor]
        capacity = proc.port_capacity_at(self.rate)
        port, load = self.state.get(proc.name, (0, 0))
        if load + pixels > capacity:
            port, load = port + 1, 0
        if port >= proc.ports or pixels > capacity:
            raise LayoutError(f"processor {proc.name} runs out of ports ({proc.ports} x {capacity} px)")
        self.state[proc.name] = (port, load + pixels)
        return port


def _pack(layout: StageLayout) -> list[_Placed]:
    project, cab = layout.project, layout.cabinets
    order = sorted(range(len(cab)), key=lambda i: (cab.section[i], cab.row[i], cab.column[i], i))
    cursor = _Cursor(project.canvases)
    ports = _Ports({p.name: p for p in project.processors}, project.frame_rate)
    placed: list[_Placed] = []
    last_key: tuple[int, int] | None = None
    for i in order:
        key = (cab.section[i], cab.row[i])
        if last_key is not None and key[0] != last_key[0]:
            cursor.new_section()
        elif key != last_key:
            cursor.new_shelf()
        last_key = key
        canvas, x, y = cursor.place(cab.pixels_w[i], cab.pixels_h[i])
        port = ports.assign(project.canvases[canvas], cab.pixel_count(i))
        placed.append(_Placed(cabinet=i, canvas=canvas, x=x, y=y, port=port))
    return placed


def _runs(layout: StageLayout, placed: list[_Placed]) -> list[list[_Placed]]:
    """Group consecutive placements that form a horizontal run of one section row."""
    cab = layout.cabinets
    runs: list[list[_Placed]] = []
    for p in placed:
        if runs:
            q = runs[-1][-1]
            if (cab.row[p.cabinet] >= 0 and cab.section[p.cabinet] == cab.section[q.cabinet]
                    and cab.row[p.cabinet] == cab.row[q.cabinet] and cab.column[p.cabinet] == cab.column[q.cabinet] + 1
                    and p.canvas == q.canvas and p.y == q.y and p.x == q.x + cab.pixels_w[q.cabinet]
                    and p.port == q.port):
                runs[-1].append(p)
                continue
        runs.append([p])
    return runs


def auto_layout(layout: StageLayout) -> list[MapEntry]:
    """A fresh pixel map for every cabinet of ``layout`` (existing entries are ignored)."""
    project, cab = layout.project, layout.cabinets
    entries: list[MapEntry] = []
    last: tuple[MapEntry, int, int] | None = None  # (entry, height, last row) for vertical merging
    for run in _runs(layout, _pack(layout)):
        first, i = run[0], run[0].cabinet
        canvas = project.canvases[first.canvas].name
        if len(run) == 1 and cab.row[i] < 0:
            entries.append(MapEntry(cabinet=cab.ids[i], canvas=canvas, x=first.x, y=first.y, port=first.port))
            last = None
            continue
        section = project.sections[cab.section[i]].name
        cols = (cab.column[i], cab.column[run[-1].cabinet])
        row = cab.row[i]
        h = cab.pixels_h[i]
        if last is not None:
            prev, prev_h, prev_row = last
            if (prev.block is not None and prev.block.section == section and prev.block.columns == cols
                    and prev.canvas == canvas and prev.x == first.x and prev_h == h and prev_row + 1 == row
                    and prev.y + (row - prev.block.rows[0]) * h == first.y and prev.port == first.port):
                prev.block = BlockRef(section=section, columns=cols, rows=(prev.block.rows[0], row))
                last = (prev, h, row)
                continue
        entry = MapEntry(block=BlockRef(section=section, columns=cols, rows=(row, row)),
                         canvas=canvas, x=first.x, y=first.y, port=first.port)
        entries.append(entry)
        last = (entry, h, row)
    return entries
