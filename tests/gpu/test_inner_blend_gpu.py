"""The fused inner-blend kernel, compiled, against the torch reference on the GPU
(VPSTAGE_GPU_TESTS=1 on a CUDA machine with Triton)."""

from __future__ import annotations

import pytest
import torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
pytest.importorskip("triton", reason="the optional triton package is not installed")

from render.scene.inner_blend import blend_reference, fused_available  # noqa: E402
from render.scene.triton_inner_blend import blend_inner_triton  # noqa: E402
from tests.engine.inner_blend_cases import CASES, blend_case  # noqa: E402


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_compiled_fused_blend_matches_the_reference(case) -> None:  # type: ignore[no-untyped-def]
    colour, pixels, sources, background = blend_case(case, torch.device("cuda"))
    assert fused_available(colour.device, sources)
    expected = colour.clone()
    blend_reference(expected, pixels, sources, background)
    blend_inner_triton(colour, pixels, sources, background)
    torch.testing.assert_close(colour, expected, rtol=0, atol=2e-5)
