from pathlib import Path

import pytest

from vpstage.config import ConfigError
from vpstage.stage import load_catalog


def test_shipped_catalog_has_real_products_with_sources() -> None:
    catalog = load_catalog()
    assert len(catalog.panels) >= 6
    assert {"roe-bp2v2", "roe-rb1.5", "roe-cb5"} <= set(catalog.panels)
    vendors = {p.vendor for p in catalog.panels.values()}
    assert len(vendors) >= 3
    for panel in catalog.panels.values():
        assert panel.source
    bp2 = catalog.panels["roe-bp2v2"]
    assert (bp2.width_mm, bp2.pixels_w, bp2.pitch_mm) == (500, 176, 2.84)


def test_inconsistent_pitch_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "panels.yaml"
    path.write_text("panels:\n  bad:\n    vendor: X\n    model: Y\n    width_mm: 500\n    height_mm: 500\n"
                    "    pixels_w: 100\n    pixels_h: 100\n    pitch_mm: 2.6\n    source: test\n")
    with pytest.raises(ConfigError, match=r"panels.yaml:3: panels.bad: Value error, pitch 2.6 mm disagrees"):
        load_catalog(path)
