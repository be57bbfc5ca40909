"""The Triton texture marcher against the torch reference, on CPU through Triton's interpreter.

Triton chooses between compiling and interpreting when it is first imported, so the checks
(triton_interpret_checks.py beside this file) run in a fresh process with ``TRITON_INTERPRET=1``.
Skipped without Triton (CI) and on CUDA machines, where tests/gpu/test_baked_march.py checks the
compiled kernel.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(importlib.util.find_spec("triton") is None,
                    reason="triton is not installed (optional accelerator)")
@pytest.mark.skipif(torch.cuda.is_available(),
                    reason="CUDA present: tests/gpu/test_baked_march.py checks the compiled kernel")
def test_texture_march_kernel_matches_reference_under_interpreter() -> None:
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                           str(ROOT / "tests" / "nerf_baked" / "triton_interpret_checks.py")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=280)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "skipped" not in proc.stdout
