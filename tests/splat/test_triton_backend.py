"""The splat Triton kernels against the torch reference under Triton's CPU interpreter.

The checks (tests/splat/triton_interpret_checks.py) run in a fresh pytest process with
``TRITON_INTERPRET=1``: Triton reads that variable when kernels are defined, and setting it in this
process would switch every later test that asks for Triton onto the (slow) interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("triton", reason="the optional triton package is not installed (pip install triton)")

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present: the compiled kernels run in tests/gpu")
def test_triton_rasterizer_matches_reference_under_interpreter() -> None:
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             str(Path(__file__).with_name("triton_interpret_checks.py"))],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " failed" not in result.stdout
