"""The fused inner-blend kernel against its torch reference, on CPU through Triton's interpreter.

Not collected by the normal run: tests/engine/test_inner_blend.py runs this file in a fresh pytest
process with ``TRITON_INTERPRET=1``. The same comparison on a GPU is tests/gpu/test_inner_blend_gpu.py.
"""

from __future__ import annotations

import os
import sys

import pytest
import torch

if os.environ.get("TRITON_INTERPRET") != "1" or "render.scene.triton_inner_blend" in sys.modules:
    raise RuntimeError("run through tests/engine/test_inner_blend.py (needs TRITON_INTERPRET=1 before import)")
pytest.importorskip("triton", reason="the optional triton package is not installed (pip install triton)")

from tests.engine.inner_blend_cases import CASES, assert_fused_matches_reference

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present: the compiled kernel runs in tests/gpu")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fused_blend_matches_the_reference(case) -> None:  # type: ignore[no-untyped-def]
    assert_fused_matches_reference(case, torch.device("cpu"))
