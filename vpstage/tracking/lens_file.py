"""The lens profile file (``configs/lenses.yaml``): calibrated lenses, loaded with located errors.

Format::

    lenses:
      - name: fujinon-20-120            # unique; not one of the preset names
        description: Fujinon Premista 28-100 on camera A
        encoder: raw                     # raw (integer counts) or normalized (0..1)
        use_sent_values: false           # prefer physical values the sender sends (default true)
        nominal_focal_length_mm: 28      # fallback when no zoom encoder value is available
        distortion_model: Brown-Conrady D-U   # or Brown-Conrady U-D (OpenCV's; lens-calibrate writes it)
        zoom:                            # zoom encoder -> focal length, entrance pupil, distortion
          - {encoder: 0,     focal_length_mm: 28.0, entrance_pupil_m: 0.142, k1: -0.021}
          - {encoder: 65535, focal_length_mm: 100.0, entrance_pupil_m: 0.087, k1: 0.004}
          # every zoom point may give k1..k6, p1, p2 (default 0) and overscan (>= 1, default 1)
        focus:                           # focus encoder -> distance (m)
          - {encoder: 0, distance_m: 0.8}
          - {encoder: 65535, distance_m: 100.0}
        iris:                            # iris encoder -> f-number
          - {encoder: 0, f_stop: 2.5}
        iris_user_bits_divisor: null     # FreeD spare bits 0-11 / divisor = f-number

Each table needs distinct encoder values (any order). Problems come back all at once as
``file:line: field.path: message``. :func:`merge_zoom_point` adds or replaces one zoom point of a
lens in a file's text (what ``main.py lens-calibrate`` writes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat

from vpstage.config import ConfigError, LineIndex, Problem, load_yaml, parse_yaml, validate_model
from vpstage.stage.types import Finite, Name
from vpstage.tracking.distortion import BROWN_CONRADY_DU, BROWN_CONRADY_UD
from vpstage.tracking.lens import PRESETS, DistortionTables, LensProfile, PiecewiseLinear

RADIAL_KEYS = ("k1", "k2", "k3", "k4", "k5", "k6")
TANGENTIAL_KEYS = ("p1", "p2")
CALIBRATED_KEYS = frozenset({"focal_length_mm", "overscan", *RADIAL_KEYS, *TANGENTIAL_KEYS})
"""What a calibration of a zoom step replaces in an existing point of the same encoder value."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ZoomPoint(_Model):
    encoder: Finite
    focal_length_mm: PositiveFloat
    entrance_pupil_m: Finite = 0.0
    k1: Finite = 0.0
    k2: Finite = 0.0
    k3: Finite = 0.0
    k4: Finite = 0.0
    k5: Finite = 0.0
    k6: Finite = 0.0
    p1: Finite = 0.0
    p2: Finite = 0.0
    overscan: Annotated[float, Field(ge=1.0, allow_inf_nan=False)] = 1.0
    """Render overscan factor the distortion needs at this zoom (>= 1; informative, the frustum
    computes its own from the coefficients)."""


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
    distortion_model: Literal["Brown-Conrady D-U", "Brown-Conrady U-D"] = "Brown-Conrady D-U"
    """Which way the zoom points' k1..k6, p1, p2 map (OpenTrackIO's default D-U when not given)."""
    zoom: list[ZoomPoint] = Field(default_factory=list)
    focus: list[FocusPoint] = Field(default_factory=list)
    iris: list[IrisPoint] = Field(default_factory=list)
    iris_user_bits_divisor: Annotated[float, Field(gt=0)] | None = None


class LensFile(_Model):
    lenses: list[LensModel] = Field(default_factory=list)


def _table(points: list[tuple[float, float]]) -> PiecewiseLinear | None:
    return PiecewiseLinear.from_points(points) if points else None


def _zoom_table(zoom: list[ZoomPoint], key: str) -> PiecewiseLinear:
    return PiecewiseLinear.from_points([(p.encoder, float(getattr(p, key))) for p in zoom])


def profile_from_model(model: LensModel) -> LensProfile:
    zoom = sorted(model.zoom, key=lambda p: p.encoder)
    distortion = None
    if zoom:
        k = [_zoom_table(zoom, key) for key in RADIAL_KEYS]
        p = [_zoom_table(zoom, key) for key in TANGENTIAL_KEYS]
        distortion = DistortionTables(model.distortion_model, (k[0], k[1], k[2], k[3], k[4], k[5]), (p[0], p[1]),
                                      _zoom_table(zoom, "overscan"))
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


# ----------------------------------------------------------------------------- writing


def zoom_point_dict(encoder: float, focal_length_mm: float, radial: tuple[float, ...], tangential: tuple[float, ...],
                    overscan: float = 1.0, entrance_pupil_m: float | None = None) -> dict[str, Any]:
    """One zoom point as the file writes it (zero coefficients left out)."""
    point: dict[str, Any] = {"encoder": int(encoder) if float(encoder).is_integer() else float(encoder),
                             "focal_length_mm": round(float(focal_length_mm), 6)}
    if entrance_pupil_m is not None:
        point["entrance_pupil_m"] = float(entrance_pupil_m)
    for key, value in zip((*RADIAL_KEYS, *TANGENTIAL_KEYS), (*radial, *tangential), strict=True):
        if value:
            point[key] = float(value)
    if overscan > 1.0:
        point["overscan"] = round(float(overscan), 6)
    return point


def merge_zoom_point(text: str | None, lens: str, point: dict[str, Any], *, encoder: Literal["raw", "normalized"],
                     model: str = BROWN_CONRADY_UD, file: str | None = None) -> str:
    """The lens file text with ``point`` added to lens ``lens`` (a point of the same encoder value
    gets its focal length and distortion replaced, its other values kept; the lens is created when
    missing, with ``use_sent_values: false``). The lens's ``distortion_model`` must be ``model``
    (a calibration in another model would mix the two). The file is checked as a lens file before
    (with the bounded loader) and after. Comments are not kept. Raises ConfigError / ValueError."""
    if text:
        lens_library_from_text(text, file)  # a file that does not load is not edited
    data: Any = {} if not text else yaml.safe_load(text)
    if data is None:
        data = {}
    if not isinstance(data, dict) or not isinstance(data.get("lenses", []), list):
        raise ValueError(f"{file or 'lens file'}: not a lens file (no 'lenses' list)")
    lenses: list[Any] = data.setdefault("lenses", [])
    entry = next((e for e in lenses if isinstance(e, dict) and e.get("name") == lens), None)
    if entry is None:
        entry = {"name": lens, "encoder": encoder, "use_sent_values": False, "distortion_model": model,
                 "nominal_focal_length_mm": point["focal_length_mm"], "zoom": []}
        lenses.append(entry)
    if entry.get("distortion_model", BROWN_CONRADY_DU) != model:
        raise ValueError(f"lens {lens!r} holds {entry.get('distortion_model', BROWN_CONRADY_DU)} coefficients; "
                         f"this calibration is {model}")
    if entry.get("encoder", "raw") != encoder:
        raise ValueError(f"lens {lens!r} reads {entry.get('encoder', 'raw')} encoders, not {encoder}")
    zoom: list[Any] = []
    for existing in entry.setdefault("zoom", []) or []:
        if isinstance(existing, dict) and existing.get("encoder") == point["encoder"]:
            # the same step again: its calibration is replaced, what else it holds (pupil) is kept
            point = {**{k: v for k, v in existing.items() if k not in CALIBRATED_KEYS}, **point}
        else:
            zoom.append(existing)
    zoom.append(point)
    zoom.sort(key=lambda p: float(p.get("encoder", 0)) if isinstance(p, dict) else 0.0)
    entry["zoom"] = zoom
    out = yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=120)
    lens_library_from_text(out, file)  # refuse to write a file that would not load
    return out
