"""Fixtures for the splat tests: random splat arrays with known values."""

from __future__ import annotations

import numpy as np
import pytest

from render.splat.model import SplatModel


def random_arrays(n: int, degree: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Activated splat arrays in ranges every format can hold (RDF, scene units)."""
    rng = np.random.default_rng(seed)
    k = (degree + 1) ** 2
    quats = rng.normal(size=(n, 4)).astype(np.float32)
    quats /= np.linalg.norm(quats, axis=1, keepdims=True)
    sh = np.concatenate([rng.uniform(-1.5, 1.5, (n, 1, 3)), rng.uniform(-0.9, 0.9, (n, k - 1, 3))], axis=1)
    return {
        "positions": rng.uniform(-3.0, 3.0, (n, 3)).astype(np.float32),
        "scales": np.exp(rng.uniform(-6.0, -1.0, (n, 3))).astype(np.float32),
        "quats": quats,
        "opacities": rng.uniform(0.02, 0.98, n).astype(np.float32),
        "sh": sh.astype(np.float32),
    }


def model_from(arrays: dict[str, np.ndarray]) -> SplatModel:
    return SplatModel.from_numpy(arrays["positions"], arrays["scales"], arrays["quats"], arrays["opacities"],
                                 arrays["sh"])


@pytest.fixture
def arrays_deg3() -> dict[str, np.ndarray]:
    return random_arrays(300, 3)


@pytest.fixture
def splat_dir(shared_data):  # type: ignore[no-untyped-def]
    return shared_data / "splats"
