"""The fused inner-blend kernel, compiled, against the torch reference on the GPU
(VPSTAGE_GPU_TESTS=1 on a CUDA machine with Triton)."""

from __future__ import annotations

import pytest
import torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
pytest.importorskip("triton", reason="the optional triton package is not installed")

from tests.engine.inner_blend_cases import CASES, assert_fused_matches_reference  # noqa: E402


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_compiled_fused_blend_matches_the_reference(case) -> None:  # type: ignore[no-untyped-def]
    assert_fused_matches_reference(case, torch.device("cuda"))
