"""Off-axis projection for rasterizing renderers (Kooima), and the inner frustum as a pinhole.

**Kooima** (reference: protocols §8.1): for a planar screen with lower-left ``pa``, lower-right
``pb``, upper-left ``pc`` and an eye ``pe``, ``projection·view = P · M · T`` with column vectors,
``T = translate(-pe)``, ``M`` the rows (vr, vu, vn) of the screen basis and ``P`` the ``glFrustum``
matrix of the extents on the near plane. Matrices act on OpenGL-style world coordinates (x right,
y up, z toward the viewer); ``STAGE_TO_GL`` bridges from the stage frame (x = X, y = Z, z = -Y, §8.2).
A flat or ceiling section is one screen (every cabinet shares its basis); an arc or mesh section
gets one screen per cabinet.

**Pinhole**: renderers that draw the camera's view and resample it onto the wall render the
inner window (:mod:`vpstage.frustum.frustum`) as an OpenCV pinhole; inner-window UV (u, v) is the
image point ``(u * width, v * height)``. A node renders only the pixel rectangle covering its UV
window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from vpstage.frustum.frustum import CameraFrustum
from vpstage.frustum.geometry import Rect
from vpstage.frustum.rays import scene_rotation, to_scene
from vpstage.geometry.pinhole import Intrinsics, PinholeCamera
from vpstage.stage import Stage
from vpstage.stage.model import ArcSection, MeshSection

F64 = NDArray[np.float64]
DepthRange = Literal["gl", "zero_one"]

STAGE_TO_GL: F64 = np.array([[1.0, 0, 0, 0], [0, 0, 1.0, 0], [0, -1.0, 0, 0], [0, 0, 0, 1.0]])
"""Stage frame (X right, Y toward the wall, Z up) -> GL world (x right, y up, z toward the viewer)."""
GL_TO_STAGE: F64 = STAGE_TO_GL.T.copy()


def frustum_matrix(left: float, right: float, bottom: float, top: float, near: float, far: float,
                   depth: DepthRange = "gl") -> F64:
    """The ``glFrustum`` matrix; ``depth="zero_one"`` gives D3D/Vulkan [0, 1] depth instead of [-1, 1]."""
    p = np.zeros((4, 4))
    p[0, 0], p[0, 2] = 2 * near / (right - left), (right + left) / (right - left)
    p[1, 1], p[1, 2] = 2 * near / (top - bottom), (top + bottom) / (top - bottom)
    if depth == "gl":
        p[2, 2], p[2, 3] = -(far + near) / (far - near), -2 * far * near / (far - near)
    else:
        p[2, 2], p[2, 3] = -far / (far - near), -far * near / (far - near)
    p[3, 2] = -1.0
    return p


def kooima_projection_view(pa: F64, pb: F64, pc: F64, pe: F64, near: float, far: float,
                           depth: DepthRange = "gl") -> F64:
    """P·M·T (4x4) for screen corners pa (lower left), pb (lower right), pc (upper left) and eye pe.

    All points in one right-handed frame (GL convention for the result to be a GL clip transform).
    Raises ValueError when the eye is not in front of the screen (d <= 0) or near/far are invalid.
    """
    pa, pb, pc, pe = (np.asarray(v, dtype=np.float64) for v in (pa, pb, pc, pe))
    if not 0 < near < far:
        raise ValueError(f"need 0 < near < far, got near={near}, far={far}")
    vr = (pb - pa) / np.linalg.norm(pb - pa)
    vu = (pc - pa) / np.linalg.norm(pc - pa)
    vn = np.cross(vr, vu)
    vn /= np.linalg.norm(vn)
    va, vb, vc = pa - pe, pb - pe, pc - pe
    d = -float(va @ vn)
    if d <= 0:
        raise ValueError(f"the eye is {-d:.4g} behind the screen plane; the screen does not face it")
    scale = near / d
    p = frustum_matrix(float(vr @ va) * scale, float(vr @ vb) * scale, float(vu @ va) * scale,
                       float(vu @ vc) * scale, near, far, depth)
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = vr, vu, vn
    t = np.eye(4)
    t[:3, 3] = -pe
    return np.asarray(p @ m @ t, dtype=np.float64)


@dataclass(frozen=True)
class ScreenProjection:
    """One planar screen (a flat section's cabinets, or one cabinet of a curved section)."""

    section: str
    cabinets: NDArray[np.intp]
    """Stage cabinet indices drawn with this matrix."""
    corners: F64
    """(3, 3) pa, pb, pc in the stage frame."""
    projection_view: F64
    """P·M·T on GL world coordinates."""

    @property
    def stage_projection_view(self) -> F64:
        """The same matrix on stage-frame points: ``projection_view @ STAGE_TO_GL``."""
        return np.asarray(self.projection_view @ STAGE_TO_GL, dtype=np.float64)


def _plane_rectangle(corners: F64) -> F64:
    """pa, pb, pc of the bounding rectangle, in the first cabinet's plane axes, of quads (n, 4, 3)."""
    tl, tr, _, bl = corners[0]
    right = (tr - tl) / np.linalg.norm(tr - tl)
    up = (tl - bl) / np.linalg.norm(tl - bl)
    flat = corners.reshape(-1, 3) - bl
    u, v = flat @ right, flat @ up
    return np.stack([bl + u.min() * right + v.min() * up, bl + u.max() * right + v.min() * up,
                     bl + u.min() * right + v.max() * up])


def _gl(points: F64) -> F64:
    return np.asarray(points @ STAGE_TO_GL[:3, :3].T, dtype=np.float64)


def screen_projections(stage: Stage, eye: F64, near: float, far: float,
                       cabinets: NDArray[np.intp] | None = None, depth: DepthRange = "gl") -> list[ScreenProjection]:
    """Kooima matrices for an eye (stage metres): one per flat/ceiling section, one per cabinet of
    arc and mesh sections. ``cabinets`` restricts the screens to those cabinets (e.g. a node's);
    screens whose plane does not face the eye are left out."""
    cab = stage.layout.cabinets
    chosen = np.arange(len(cab)) if cabinets is None else np.asarray(cabinets, dtype=np.intp)
    section_of = np.asarray(cab.section, dtype=np.intp)
    eye_gl = _gl(np.asarray(eye, dtype=np.float64))
    out = []
    for s_index, section in enumerate(stage.project.sections):
        members = chosen[section_of[chosen] == s_index]
        if members.size == 0:
            continue
        per_cabinet = isinstance(section, ArcSection | MeshSection)
        groups = [members[i:i + 1] for i in range(len(members))] if per_cabinet else [members]
        for group in groups:
            quads = cab.corners[group]
            corners = (np.stack([quads[0, 3], quads[0, 2], quads[0, 0]]) if per_cabinet
                       else _plane_rectangle(quads))
            try:
                pa, pb, pc = _gl(corners)
                pv = kooima_projection_view(pa, pb, pc, eye_gl, near, far, depth)
            except ValueError:
                continue  # the screen faces away from the eye: nothing of it is seen from there
            out.append(ScreenProjection(section.name, group, corners, pv))
    return out


@dataclass(frozen=True)
class InnerPinhole:
    """The inner window as an OpenCV pinhole (``camera``: the camera to render), with the part of
    its image a node needs."""

    world_to_camera: F64
    """(4, 4) rigid: world (stage or scene, as built) -> OpenCV camera."""
    intrinsics: Intrinsics
    uv_window: tuple[float, float, float, float] | None = None
    """(u0, v0, u1, v1) the node's inner pixels need, when built for a node."""

    @property
    def camera(self) -> PinholeCamera:
        """The pinhole to render the inner window with."""
        return PinholeCamera.posed(self.world_to_camera, self.intrinsics)

    def rect_for(self, uv_window: tuple[float, float, float, float], margin_px: int = 0) -> Rect:
        """Pixel rectangle [x0, y0, x1, y1) holding every bilinear tap of samples inside a UV
        window, grown by ``margin_px`` and clipped to the image."""
        u0, v0, u1, v1 = uv_window
        width, height = self.intrinsics.width, self.intrinsics.height
        x0 = max(0, math.floor(u0 * width - 0.5) - margin_px)
        y0 = max(0, math.floor(v0 * height - 0.5) - margin_px)
        x1 = min(width, math.floor(u1 * width - 0.5) + 2 + margin_px)
        y1 = min(height, math.floor(v1 * height - 0.5) + 2 + margin_px)
        return x0, y0, max(x0, x1), max(y0, y1)

    @property
    def rect(self) -> Rect | None:
        """The launch rectangle for ``uv_window`` (None without one)."""
        return None if self.uv_window is None else self.rect_for(self.uv_window)


def inner_pinhole(frustum: CameraFrustum, width: int | None = None, height: int | None = None,
                  stage_to_scene: F64 | None = None,
                  uv_window: tuple[float, float, float, float] | None = None) -> InnerPinhole:
    """The inner window as a pinhole image of ``width`` x ``height`` (default: the camera's image
    size grown with the window, so camera pixels keep their density), posed in the scene frame
    when ``stage_to_scene`` is given (rigid: the placement's scale only changes units)."""
    xl, xr, yt, yb = frustum.window
    cl, cr, ct, cb = frustum.camera_window
    cam = frustum.camera
    w = width or max(1, round(cam.image_width * (xr - xl) / (cr - cl)))
    h = height or max(1, round(cam.image_height * (yb - yt) / (cb - ct)))
    fx, fy = w / (xr - xl), h / (yb - yt)
    matrix = np.eye(4) if stage_to_scene is None else np.asarray(stage_to_scene, dtype=np.float64)
    rotation = scene_rotation(matrix) @ frustum.rotation
    eye = to_scene(matrix, frustum.eye)
    view = np.eye(4)
    view[:3, :3] = rotation.T
    view[:3, 3] = -rotation.T @ eye
    return InnerPinhole(view, Intrinsics(fx=fx, fy=fy, cx=-xl * fx, cy=-yt * fy, width=w, height=h), uv_window)
