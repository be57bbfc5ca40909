"""Ground-truth targets from the source's dataset: random pixels of its RGBA images.

Optional: when the dataset is given, part of every distillation batch comes from the photos, so
the baked field can also correct what the source NeRF got wrong. Pixels are sampled at their
centres through the frames' own (distorted) rays, like the trainer does.
"""

from __future__ import annotations

import numpy as np
import torch

from render.nerf.train.camera_rays import FrameCameras
from render.nerf.train.dataset import Frame, load_image


class ImageTargets:
    """Frames' cameras and images on one device."""

    def __init__(self, frames: list[Frame], device: torch.device) -> None:
        if not frames:
            raise ValueError("no frames to take targets from")
        self.frames = frames
        self.cameras = FrameCameras(frames, device)
        h, w = max(f.h for f in frames), max(f.w for f in frames)
        self.images = torch.zeros(len(frames), h, w, 4, dtype=torch.uint8, device=device)
        for i, frame in enumerate(frames):
            pixels = np.clip(load_image(frame) * 255.0 + 0.5, 0, 255).astype(np.uint8)
            self.images[i, : frame.h, : frame.w] = torch.from_numpy(pixels).to(device)

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                                                                  torch.Tensor]:
        """n random pixels: asset-frame origins, unit dirs (n, 3), colour over black (n, 3), alpha (n,)."""
        dev = self.images.device
        index = torch.randint(0, len(self.frames), (n,), device=dev, generator=generator)
        size = self.cameras.size[index]
        px = (torch.rand(n, device=dev, generator=generator) * size[:, 0]).floor()
        py = (torch.rand(n, device=dev, generator=generator) * size[:, 1]).floor()
        rgba = self.images[index, py.long(), px.long()].float() / 255.0
        origins, dirs = self.cameras.rays(index, px + 0.5, py + 0.5)
        return origins, dirs, rgba[:, :3] * rgba[:, 3:], rgba[:, 3]
