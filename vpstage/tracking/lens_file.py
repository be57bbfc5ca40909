"""The lens profile file (``configs/lenses.yaml``): calibrated lenses, loaded with located errors.

Format::

    lenses:
      - name: fujinon-20-120            # unique; not one of the preset names
        description: Fujinon Premista 28-100 on camera A
        encoder: raw                     # raw (integer counts) or normalized (0..1)
        use_sent_values: false           # prefer physical values the sender sends (default true)
        nominal_focal_length_mm: 28      # fallback when no zoom encoder value is available
        zoom:                            # zoom encoder -> focal length, entrance pupil, distortion
          - {encoder: 0,     focal_length_mm: 28.0, entrance_pupil_m: 0.142, k1: -0.021}
          - {encoder: 65535, focal_length_mm: 100.0, entrance_pupil_m: 0.087, k1: 0.004}
        focus:                           # focus encoder -> distance (m)
          - {encoder: 0, distance_m: 0.8}
          - {encoder: 65535, distance_m: 100.0}
        iris:                            # iris encoder -> f-number
          - {encoder: 0, f_stop: 2.5}
        iris_user_bits_divisor: null     # FreeD spare bits 0-11 / divisor = f-number

Each table needs distinct encoder values (any order). Problems come back all at once as
``file:line: field.path: message``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat

from vpstage.config import ConfigError, LineIndex, Problem, load_yaml, parse_yaml, validate_model
from vpstage.stage.types import Finite, Name
from vpstage.tracking.lens import PRESETS, LensProfile, PiecewiseLinear


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ZoomPoint(_Model):
    encoder: Finite
    focal_length_mm: PositiveFloat
    entrance_pupil_m: Finite = 0.0
    k1: Finite = 0.0
    k2: Finite = 0.0
    p1: Finite = 0.0
    p2: Finite = 0.0


class FocusPoint(_Model):
    encoder: Finite
    distance_m: PositiveFloat


class IrisPoint(_Model):
    encoder: Finite
    f_stop: PositiveFloat


class LensModel(_Model):
    name: Name
    description: str = ""
    encoder: Literal["raw", "normalized"] = "raw"
    use_sent_values: bool = True
    nominal_focal_length_mm: PositiveFloat = 35.0
    zoom: list[ZoomPoint] = Field(default_factory=list)
    focus: list[FocusPoint] = Field(default_factory=list)
    iris: list[IrisPoint] = Field(default_factory=list)
    iris_user_bits_divisor: Annotated[float, Field(gt=0)] | None = None


class LensFile(_Model):
    lenses: list[LensModel] = Field(default_factory=list)


def _table(points: list[tuple[float, float]]) -> PiecewiseLinear | None:
    return PiecewiseLinear.from_points(points) if points else None


def profile_from_model(model: LensModel) -> LensProfile:
    zoom = sorted(model.zoom, key=lambda p: p.encoder)
    distortion = None
    if zoom:
        k1, k2, p1, p2 = (_table([(p.encoder, getattr(p, k)) for p in zoom]) for k in ("k1", "k2", "p1", "p2"))
        assert k1 is not None and k2 is not None and p1 is not None and p2 is not None
        distortion = (k1, k2, p1, p2)
    return LensProfile(
        name=model.name, encoder=model.encoder, use_sent_values=model.use_sent_values,
        nominal_focal_length_mm=model.nominal_focal_length_mm,
        focal_length=_table([(p.encoder, p.focal_length_mm) for p in zoom]),
        focus_distance=_table([(p.encoder, p.distance_m) for p in model.focus]),
        entrance_pupil=_table([(p.encoder, p.entrance_pupil_m) for p in zoom]),
        distortion=distortion,
        f_stop=_table([(p.encoder, p.f_stop) for p in model.iris]),
        iris_user_bits_divisor=model.iris_user_bits_divisor,
        description=model.description,
    )


def _semantic_problems(doc: LensFile, index: LineIndex) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, lens in enumerate(doc.lenses):
        if lens.name in PRESETS:
            problems.append(index.problem(("lenses", i, "name"), f"{lens.name!r} is a built-in preset name"))
        elif lens.name in seen:
            problems.append(index.problem(("lenses", i, "name"), f"duplicate lens name {lens.name!r}"))
        seen.add(lens.name)
        for table in ("zoom", "focus", "iris"):
            encoders: set[float] = set()
            for j, point in enumerate(getattr(lens, table)):
                if point.encoder in encoders:
                    problems.append(index.problem(("lenses", i, table, j, "encoder"),
                                                  f"encoder value {point.encoder} appears twice"))
                encoders.add(point.encoder)
    return problems


def _library(data: object, index: LineIndex) -> dict[str, LensProfile]:
    doc = validate_model(LensFile, {} if data is None else data, index)
    problems = _semantic_problems(doc, index)
    if problems:
        raise ConfigError(problems)
    library = dict(PRESETS)
    library.update({lens.name: profile_from_model(lens) for lens in doc.lenses})
    return library


def lens_library_from_text(text: str, file: str | None = None) -> dict[str, LensProfile]:
    """Presets plus the file's lenses, by name. Raises ConfigError with every problem located."""
    return _library(*parse_yaml(text, file))


def load_lens_library(path: str | Path | None) -> dict[str, LensProfile]:
    """Load a lens file (``None``: the presets only). Raises ConfigError."""
    if path is None:
        return dict(PRESETS)
    return _library(*load_yaml(path))
