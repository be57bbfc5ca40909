"""The inner blend: the torch reference, and the fused Triton kernel against it (interpreter)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from render.scene.inner_blend import blend_reference, fused_available
from render.scene.layers import Layer, composite
from render.scene.window_source import WindowSource
from tests.engine.inner_blend_cases import CASES, blend_case

ROOT = Path(__file__).resolve().parents[2]


def test_reference_blends_the_depth_composite_with_the_soft_edge_weights(tmp_path: Path) -> None:
    colour, pixels, sources, background = blend_case(CASES[3], torch.device("cpu"), tmp_path)
    before = colour.clone()
    blend_reference(colour, pixels, sources, background)
    layers = [s.sample(pixels.uv) for s in sources]
    inner = composite(layers, background, len(pixels))
    index, weight = pixels.index, pixels.weight[:, None]
    torch.testing.assert_close(colour[index], weight * inner + (1 - weight) * before[index])
    untouched = torch.ones(len(colour), dtype=torch.bool)
    untouched[index] = False
    assert torch.equal(colour[untouched], before[untouched])


def test_window_depth_is_in_stage_metres(tmp_path: Path) -> None:
    _, pixels, sources, _ = blend_case(CASES[1], torch.device("cpu"), tmp_path)
    source = sources[0]
    doubled = WindowSource(out=source.out, rect=source.rect, size=source.size, scale=2 * source.scale)
    near, far = source.sample(pixels.uv), doubled.sample(pixels.uv)
    covered = near.alpha > 0
    assert bool(covered.any())
    torch.testing.assert_close(far.depth[covered] * 2, near.depth[covered])


def test_layers_by_rays_keep_the_reference() -> None:
    layer = Layer.empty(4, torch.device("cpu"))
    assert not fused_available(torch.device("cpu"), [layer])


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present: the compiled kernel runs in tests/gpu")
def test_fused_kernel_matches_reference_under_interpreter() -> None:
    pytest.importorskip("triton", reason="the optional triton package is not installed (pip install triton)")
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             str(Path(__file__).with_name("inner_blend_interpret_checks.py"))],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " failed" not in result.stdout
