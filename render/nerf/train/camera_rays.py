"""Dataset cameras as tensors: rays through pixels (with OpenCV distortion) and visibility tests."""

from __future__ import annotations

import torch

from render.nerf.train.dataset import Frame, undistort


class FrameCameras:
    """All frames' cameras on one device (asset frame, OpenCV axes)."""

    def __init__(self, frames: list[Frame], device: torch.device | str) -> None:
        self.c2w = torch.stack([torch.as_tensor(f.c2w_opencv()[:3], dtype=torch.float32) for f in frames]).to(device)
        self.intrinsics = torch.tensor([[f.fl_x, f.fl_y, f.cx, f.cy] for f in frames], dtype=torch.float32,
                                       device=device)
        self.distortion = torch.tensor([f.distortion for f in frames], dtype=torch.float32, device=device)
        self.size = torch.tensor([[f.w, f.h] for f in frames], dtype=torch.int64, device=device)

    def __len__(self) -> int:
        return self.c2w.shape[0]

    def rays(self, index: torch.Tensor, px: torch.Tensor, py: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Rays through image points (float pixel coordinates, pixel centres at +0.5) of frames ``index``.

        Returns asset-frame origins (N, 3) and unit directions (N, 3).
        """
        fx, fy, cx, cy = self.intrinsics[index].unbind(-1)
        x, y = undistort((px - cx) / fx, (py - cy) / fy, self.distortion[index])
        cam = torch.stack([x, y, torch.ones_like(x)], dim=-1)
        c2w = self.c2w[index]
        dirs = torch.einsum("nij,nj->ni", c2w[:, :, :3], cam)
        return c2w[:, :, 3], dirs / dirs.norm(dim=-1, keepdim=True)

    def frame_rays(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Rays through every pixel centre of frame ``i``, row-major."""
        w, h = (int(v) for v in self.size[i])
        dev = self.c2w.device
        py, px = torch.meshgrid(torch.arange(h, device=dev, dtype=torch.float32) + 0.5,
                                torch.arange(w, device=dev, dtype=torch.float32) + 0.5, indexing="ij")
        index = torch.full((h * w,), i, dtype=torch.int64, device=dev)
        return self.rays(index, px.reshape(-1), py.reshape(-1))

    def sees(self, points: torch.Tensor, chunk: int = 1 << 17) -> torch.Tensor:
        """(N,) bool: the asset-frame point projects inside some frame's image, in front of it.

        Distortion is ignored (a camera "sees" the undistorted image rectangle), which is what
        deciding which occupancy cells the training can ever constrain needs.
        """
        seen = torch.zeros(points.shape[0], dtype=torch.bool, device=points.device)
        rot = self.c2w[:, :, :3]
        for start in range(0, points.shape[0], chunk):
            p = points[start:start + chunk]
            local = torch.einsum("cji,cnj->cni", rot, p[None] - self.c2w[:, None, :, 3])
            z = local[..., 2]
            fx, fy, cx, cy = (v[:, None] for v in self.intrinsics.unbind(-1))
            u = fx * local[..., 0] / z.clamp(min=1e-9) + cx
            v = fy * local[..., 1] / z.clamp(min=1e-9) + cy
            w, h = self.size[:, 0:1], self.size[:, 1:2]
            inside = (z > 0) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
            seen[start:start + chunk] = inside.any(dim=0)
        return seen
