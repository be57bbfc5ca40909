"""LED cabinet catalog: published sizes and resolutions of real products (configs/panels.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, model_validator

from vpstage.config import DEFAULT_YAML_LIMITS, ConfigError, YamlLimits, load_yaml, validate_model
from vpstage.stage.types import PositiveFinite

DEFAULT_CATALOG = Path(__file__).resolve().parents[2] / "configs" / "panels.yaml"

#: Tolerance between the published pitch and width / pixels (vendors round the pitch).
PITCH_TOLERANCE = 0.03


class PanelType(BaseModel):
    """One cabinet product. Sizes are the LED area of the cabinet, as published."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vendor: str
    model: str
    width_mm: PositiveFinite
    height_mm: PositiveFinite
    pixels_w: PositiveInt
    pixels_h: PositiveInt
    pitch_mm: PositiveFinite
    max_nits: PositiveFloat | None = None
    weight_kg: PositiveFloat | None = None
    scan: str | None = None
    use: str | None = None
    """Intended use: wall, ceiling, floor."""
    source: str
    """Where the figures were published (URL or datasheet name)."""

    @model_validator(mode="after")
    def _pitch_matches_size(self) -> PanelType:
        for size, px in ((self.width_mm, self.pixels_w), (self.height_mm, self.pixels_h)):
            derived = size / px
            if abs(derived - self.pitch_mm) > PITCH_TOLERANCE * self.pitch_mm:
                raise ValueError(
                    f"pitch {self.pitch_mm} mm disagrees with {size} mm / {px} px = {derived:.3f} mm"
                )
        return self

    @property
    def width_m(self) -> float:
        return self.width_mm / 1000.0

    @property
    def height_m(self) -> float:
        return self.height_mm / 1000.0

    @property
    def pixel_count(self) -> int:
        return self.pixels_w * self.pixels_h


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: Annotated[int, Field(ge=1, le=1)] = 1
    panels: dict[str, PanelType]


def load_catalog(path: str | Path = DEFAULT_CATALOG, limits: YamlLimits = DEFAULT_YAML_LIMITS) -> Catalog:
    """Load a catalog file (read within ``limits``); raises ConfigError with every located problem."""
    data, index = load_yaml(path, limits)
    if data is None:
        raise ConfigError([index.problem((), "empty catalog file")])
    return validate_model(Catalog, data, index)
