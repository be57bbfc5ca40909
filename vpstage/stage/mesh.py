"""Mesh sections: read an OBJ file whose quad faces are cabinets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vpstage.config import Problem
from vpstage.config.problems import Path as KeyPath
from vpstage.geometry.rotations import body_rotation
from vpstage.stage.cabinets import CabinetSet, mesh_cabinet_id
from vpstage.stage.catalog import PanelType
from vpstage.stage.limits import DEFAULT_STAGE_LIMITS, StageLimitError, StageLimits
from vpstage.stage.model import MeshSection


class ObjData:
    """Vertices and faces of an OBJ file, with the source line of every face."""

    def __init__(self) -> None:
        self.vertices: list[tuple[float, float, float]] = []
        self.faces: list[list[int]] = []
        self.face_lines: list[int] = []


def _read_obj(path: Path, max_bytes: int, where: KeyPath) -> str:
    with path.open("rb") as handle:
        raw = handle.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise StageLimitError(Problem(path=where, message=f"OBJ file {path} is larger than {max_bytes:,} bytes "
                                                   "(stage limit max_obj_bytes)"))
    return raw.decode("utf-8", errors="replace")


def parse_obj(path: Path, *, max_faces: int | None = None, max_bytes: int = DEFAULT_STAGE_LIMITS.max_obj_bytes,
              where: KeyPath = ()) -> tuple[ObjData, list[Problem]]:
    """Parse ``v`` and ``f`` records; other records (vt, vn, g, o, usemtl...) are ignored.

    Raises StageLimitError (located at ``where``) for a file over ``max_bytes`` or with more than
    ``max_faces`` faces."""
    obj, problems = ObjData(), []
    text = _read_obj(path, max_bytes, where)
    for lineno, raw in enumerate(text.splitlines(), start=1):
        parts = raw.split("#", 1)[0].split()
        if not parts:
            continue
        if parts[0] == "v":
            try:
                x, y, z = (float(v) for v in parts[1:4])
            except ValueError:
                problems.append(Problem(path=(), message=f"bad vertex record {raw.strip()!r}", file=str(path),
                                        line=lineno))
                continue
            obj.vertices.append((x, y, z))
        elif parts[0] == "f":
            try:
                refs = [int(p.split("/")[0]) for p in parts[1:]]
            except ValueError:
                problems.append(Problem(path=(), message=f"bad face record {raw.strip()!r}", file=str(path),
                                        line=lineno))
                continue
            count = len(obj.vertices)
            obj.faces.append([r - 1 if r > 0 else count + r for r in refs])
            obj.face_lines.append(lineno)
            if max_faces is not None and len(obj.faces) > max_faces:
                raise StageLimitError(Problem(
                    path=where, message=f"OBJ file {path} has more faces (cabinets) than the {max_faces:,} the stage "
                                        "has room for (stage limit max_cabinets)"))
    return obj, problems


def _to_stage(points: NDArray[np.float64], s: MeshSection) -> NDArray[np.float64]:
    if s.up_axis == "y":  # x right, y up, z toward the viewer -> X, Y = -z, Z = y
        points = np.stack([points[:, 0], -points[:, 2], points[:, 1]], axis=1)
    rot = body_rotation(s.yaw_deg, 0.0, 0.0)
    return np.asarray(points * s.unit_scale @ rot.T + np.asarray(s.origin), dtype=np.float64)


def place_mesh(out: CabinetSet, index: int, s: MeshSection, panel: PanelType, base_dir: Path,
               path_prefix: tuple[str | int, ...], limits: StageLimits = DEFAULT_STAGE_LIMITS,
               room: int | None = None) -> list[Problem]:
    """Add one cabinet per quad face. Returns problems (missing file, non-quads, wrong sizes).

    ``room``: cabinets the stage may still take; more faces, or a file over ``limits.max_obj_bytes``,
    raise StageLimitError."""
    obj_path = (base_dir / s.file).resolve()
    if not obj_path.is_file():
        return [Problem(path=path_prefix + ("file",), message=f"OBJ file not found: {obj_path}")]
    try:
        obj, problems = parse_obj(obj_path, max_faces=room, max_bytes=limits.max_obj_bytes,
                                  where=path_prefix + ("file",))
    except OSError as exc:
        return [Problem(
            path=path_prefix + ("file",), message=f"cannot read OBJ file {obj_path}: {exc.strerror or exc}")]
    verts = _to_stage(np.asarray(obj.vertices, dtype=np.float64).reshape(-1, 3), s)
    file = str(obj_path)
    for face_no, (face, line) in enumerate(zip(obj.faces, obj.face_lines, strict=True)):
        if len(face) != 4:
            problems.append(Problem(path=(), message=f"face {face_no} has {len(face)} vertices; cabinets must be quads",
                                    file=file, line=line))
            continue
        if any(not 0 <= v < len(verts) for v in face):
            problems.append(Problem(path=(), message=f"face {face_no} refers to a vertex that does not exist",
                                    file=file, line=line))
            continue
        bl, br, tr, tl = (verts[v] for v in face)
        width, height = float(np.linalg.norm(br - bl)), float(np.linalg.norm(tl - bl))
        if (abs(width - panel.width_m) > s.size_tolerance * panel.width_m
                or abs(height - panel.height_m) > s.size_tolerance * panel.height_m):
            problems.append(Problem(
                path=(), message=f"face {face_no} is {width * 1000:.0f} x {height * 1000:.0f} mm; "
                                 f"{s.panel} is {panel.width_mm:.0f} x {panel.height_mm:.0f} mm", file=file, line=line))
            continue
        out.add(mesh_cabinet_id(s.name, face_no), index, -1, -1, s.panel,
                (panel.pixels_w, panel.pixels_h), np.stack([tl, tr, br, bl]))
    if not obj.faces and not problems:
        problems.append(Problem(path=path_prefix + ("file",), message=f"OBJ file has no faces: {obj_path}"))
    return problems
