"""The project's ``colour`` section: OCIO config, scene working spaces, per-canvas outputs, and
the operator's per-region colour corrections.

Absent from a project, the wall gets today's picture: no colour transform, 8-bit. A section may
hold only ``regions`` (no OCIO config): the corrections then apply to the rendered values. Names
(colour spaces, displays, views) are checked against the config by ``vpstage.colour.checks``;
this module only checks the shape of the values. Kept free of ``vpstage.stage`` imports (the
project model imports it).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

PositiveNumber = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
Number = Annotated[float, Field(allow_inf_nan=False)]
IDENTITY_3X3: tuple[tuple[float, float, float], ...] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))

MIN_LUT_SIZE, DEFAULT_LUT_SIZE, MAX_LUT_SIZE = 17, 65, 129
MIN_PEAK_NITS, MAX_PEAK_NITS = 100.0, 10000.0
"""PQ peak luminance range accepted (ST 2084 itself ends at 10 000 cd/m²)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class MatrixCalibration(_Model):
    """Wall-to-camera match in output code values (0..1), applied after the output transform:
    ``v' = clamp(gains * (matrix @ v), 0, 1) ** gamma`` per channel."""

    matrix: list[list[Number]] = Field(default_factory=lambda: [list(row) for row in IDENTITY_3X3])
    """3x3 primaries matrix, rows = output channels (r, g, b)."""
    gains: tuple[PositiveNumber, PositiveNumber, PositiveNumber] = (1.0, 1.0, 1.0)
    gamma: tuple[PositiveNumber, PositiveNumber, PositiveNumber] = (1.0, 1.0, 1.0)
    """Per-channel exponent applied last (1 = unchanged)."""

    @field_validator("matrix")
    @classmethod
    def _three_by_three(cls, matrix: list[list[float]]) -> list[list[float]]:
        if len(matrix) != 3 or any(len(row) != 3 for row in matrix):
            shape = f"{len(matrix)} row(s) of " + "/".join(str(len(r)) for r in matrix) if matrix else "no rows"
            raise ValueError(f"the calibration matrix is 3x3 (3 rows of 3 numbers); got {shape}")
        return matrix


class CubeCalibration(_Model):
    """Wall-to-camera match as a ``.cube`` LUT (1D or 3D) in output code values (0..1)."""

    cube: str
    """Path relative to the project file."""


def _calibration_kind(value: Any) -> str:
    """Tag of the calibration a value is (``cube`` given: a file; otherwise matrix/gains/gamma).
    The tags are no field names, so problems are located at the fields themselves."""
    if isinstance(value, dict):
        return "cube_file" if "cube" in value else "primaries"
    return "cube_file" if isinstance(value, CubeCalibration) else "primaries"


Calibration = Annotated[
    Annotated[MatrixCalibration, Tag("primaries")] | Annotated[CubeCalibration, Tag("cube_file")],
    Discriminator(_calibration_kind),
]


class CanvasColour(_Model):
    """What one canvas sends: an OCIO display + view (or a named output colour space), its
    encoding, bit depth and the wall calibration."""

    display: str | None = None
    """OCIO display; default: the config's first display for ``encoding`` (SDR or PQ)."""
    view: str | None = None
    """OCIO view of ``display``; default: for PQ the view for ``peak_nits``, else the display's
    default view."""
    colour_space: str | None = None
    """A named output colour space instead of display + view."""
    encoding: Literal["sdr", "pq"] = "sdr"
    """``pq``: SMPTE ST 2084 (the display/view must be a PQ one)."""
    peak_nits: Annotated[float, Field(ge=MIN_PEAK_NITS, le=MAX_PEAK_NITS, allow_inf_nan=False)] = 1000.0
    """PQ only: the wall's peak luminance, cd/m²; picks the view that tone-maps to it."""
    bits: Literal[8, 10, 16] = 8
    """Code-value depth the canvas sends."""
    calibration: Calibration | None = None

    @model_validator(mode="after")
    def _one_target(self) -> CanvasColour:
        if self.colour_space is not None and (self.display is not None or self.view is not None):
            raise ValueError("give either colour_space or display/view, not both")
        if self.view is not None and self.display is None:
            raise ValueError("a view belongs to a display: give 'display' too")
        return self


Lift = Annotated[float, Field(ge=-1.0, le=1.0, allow_inf_nan=False)]
Gamma = Annotated[float, Field(gt=0.0, le=10.0, allow_inf_nan=False)]
Gain = Annotated[float, Field(ge=0.0, le=8.0, allow_inf_nan=False)]
MAX_REGIONS = 64
"""Colour regions a project may hold (every frame order carries the enabled ones)."""


class ColourRegion(_Model):
    """An operator's colour correction of one rectangle of a canvas, in the canvas's code values
    (0..1, after the OCIO output transform): ``((v + lift * (1 - v)) * gain) ** (1 / gamma)`` per
    channel, then ``saturation`` around Rec.709 luma, faded in over ``feather_px`` inside the
    rectangle's edges."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    canvas: str
    rect: tuple[int, int, int, int]
    """``[x0, y0, x1, y1]`` canvas pixels (the pixel map's coordinates), x1 and y1 exclusive."""
    feather_px: Annotated[float, Field(ge=0.0, le=4096.0, allow_inf_nan=False)] = 0.0
    """Width of the linear ramp from no correction (the rectangle's edge) to full correction."""
    lift: tuple[Lift, Lift, Lift] = (0.0, 0.0, 0.0)
    """Raises the blacks towards 1 (-1..1; 0: unchanged)."""
    gamma: tuple[Gamma, Gamma, Gamma] = (1.0, 1.0, 1.0)
    """Exponent ``1 / gamma`` after lift and gain (> 0; 1: unchanged; above 1 brightens the mids)."""
    gain: tuple[Gain, Gain, Gain] = (1.0, 1.0, 1.0)
    """Multiplies after lift (0..8; 1: unchanged)."""
    saturation: Annotated[float, Field(ge=0.0, le=4.0, allow_inf_nan=False)] = 1.0
    """1: unchanged; 0: grey (Rec.709 luma)."""
    enabled: bool = True

    @field_validator("rect")
    @classmethod
    def _not_empty(cls, rect: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        x0, y0, x1, y1 = rect
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"the rectangle [{x0}, {y0}, {x1}, {y1}] is empty (x1 > x0 and y1 > y0)")
        return rect


class ColourSettings(_Model):
    """OCIO colour management of the wall, and colour regions."""

    config: str | None = None
    """OCIO config: a file relative to the project, or a built-in URI (``ocio://studio-config-latest``).
    Needed with ``canvases`` or ``assets``; a section of ``regions`` only may leave it out."""
    working_space: str | None = None
    """Colour space of scene assets (their rendered RGB), unless ``assets`` says otherwise (with
    ``config``)."""
    assets: dict[str, str] = Field(default_factory=dict)
    """Per scene asset (by name): its colour space."""
    canvases: dict[str, CanvasColour] = Field(default_factory=dict)
    """Per canvas (by name): its output. Canvases not listed send the rendered values as before."""
    lut_size: Annotated[int, Field(ge=MIN_LUT_SIZE, le=MAX_LUT_SIZE)] = DEFAULT_LUT_SIZE
    """Grid points per axis of the baked 3D LUTs (65: 3.3 MB each; 129: 26 MB, about half the
    error; see docs/colour.md)."""
    regions: list[ColourRegion] = Field(default_factory=list, max_length=MAX_REGIONS)
    """Per-region corrections, applied in this order after the canvas's output transform."""

    @model_validator(mode="after")
    def _ocio_together(self) -> ColourSettings:
        if (self.config is None) != (self.working_space is None):
            raise ValueError("give 'config' and 'working_space' together (or neither, for regions only)")
        if self.config is None and (self.canvases or self.assets):
            raise ValueError("colour-managed canvases and asset spaces need an OCIO 'config' and 'working_space'")
        names = [r.name for r in self.regions]
        doubled = sorted({n for n in names if names.count(n) > 1})
        if doubled:
            raise ValueError(f"colour region names must be unique: {', '.join(doubled)}")
        return self

    @property
    def ocio(self) -> tuple[str, str]:
        """(config, working space); ValueError for a section of regions only."""
        if self.config is None or self.working_space is None:
            raise ValueError("the colour section names no OCIO config")
        return self.config, self.working_space

    def asset_space(self, asset: str) -> str:
        """The colour space an asset's rendered RGB is in."""
        return self.assets.get(asset, self.ocio[1])

    def source_spaces(self, assets: list[str]) -> list[str]:
        """Distinct working spaces of ``assets`` (in order), the default first."""
        spaces = [self.ocio[1]] + [self.asset_space(a) for a in assets]
        return list(dict.fromkeys(spaces))
