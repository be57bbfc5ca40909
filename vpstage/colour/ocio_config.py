"""OpenColorIO configs: load one (a file or a built-in ``ocio://`` URI) and list its names.

PyOpenColorIO is a compiled dependency: it is imported inside these functions only, so importing
``vpstage`` stays cheap. Loaded configs are cached (built-ins by URI, files by path, size and
modification time), so validating a project on every edit does not re-read them.
"""

from __future__ import annotations

import difflib
import functools
from pathlib import Path
from typing import Any

OcioConfig = Any
"""A ``PyOpenColorIO.Config`` (the package ships no type information)."""

BUILTIN_PREFIX = "ocio://"
BUILTIN_ALIASES = ("default", "cg-config-latest", "studio-config-latest")
MAX_CHOICES = 12
"""Names listed in a message about an unknown name (closest first)."""


class ColourConfigError(ValueError):
    """An OCIO config that cannot be used (missing file, unknown URI, OCIO refused it)."""


def ocio_version() -> str:
    import PyOpenColorIO as ocio

    return str(ocio.__version__)


def builtin_config_uris() -> list[str]:
    """Every ``ocio://`` URI the installed OpenColorIO offers (aliases first)."""
    import PyOpenColorIO as ocio

    names = list(BUILTIN_ALIASES) + [str(name) for name in ocio.BuiltinConfigRegistry()]
    return [BUILTIN_PREFIX + name for name in names]


def is_builtin(spec: str) -> bool:
    return spec.startswith(BUILTIN_PREFIX)


def config_path(spec: str, base_dir: Path) -> Path:
    """The file a non-built-in ``config`` names (relative to the project folder)."""
    return (base_dir / spec).resolve()


def choices(name: str, options: list[str], limit: int = MAX_CHOICES) -> str:
    """``'a', 'b', ... (and N more)``: the options closest to ``name`` first."""
    ranked = sorted(options, key=lambda o: -difflib.SequenceMatcher(None, name.lower(), o.lower()).ratio())
    listed = ", ".join(repr(o) for o in ranked[:limit])
    more = len(options) - limit
    return listed + (f" (and {more} more)" if more > 0 else "") if options else "(none)"


@functools.lru_cache(maxsize=16)
def _load_builtin(uri: str) -> OcioConfig:
    import PyOpenColorIO as ocio

    return ocio.Config.CreateFromFile(uri)


@functools.lru_cache(maxsize=16)
def _load_file(path: str, _mtime_ns: int, _size: int) -> OcioConfig:
    import PyOpenColorIO as ocio

    return ocio.Config.CreateFromFile(path)


def _require_ocio() -> None:
    try:
        import PyOpenColorIO  # noqa: F401
    except ImportError as exc:
        raise ColourConfigError(f"the colour section needs OpenColorIO (pip install opencolorio): {exc}") from None


def load_config(spec: str, base_dir: Path) -> OcioConfig:
    """The config ``spec`` names: ``ocio://NAME`` or a file relative to ``base_dir``.

    Raises ColourConfigError with a plain message (the choices for an unknown URI; OpenColorIO
    not installed)."""
    _require_ocio()
    if is_builtin(spec):
        known = builtin_config_uris()
        if spec not in known:
            raise ColourConfigError(f"unknown built-in config {spec!r} (OpenColorIO {ocio_version()}); "
                                    f"built-in configs: {choices(spec, known)}")
        return _checked(lambda: _load_builtin(spec), spec)
    path = config_path(spec, base_dir)
    try:
        stat = path.stat()
    except OSError:
        raise ColourConfigError(f"OCIO config file not found: {path}") from None
    return _checked(lambda: _load_file(str(path), stat.st_mtime_ns, stat.st_size), str(path))


def _checked(load: Any, where: str) -> OcioConfig:
    try:
        return load()
    except Exception as exc:  # OCIO raises its own Exception type for every refusal
        raise ColourConfigError(f"OpenColorIO cannot load {where}: {exc}") from None


def colour_space_names(config: OcioConfig) -> list[str]:
    """Active colour spaces, scene- and display-referred, in the config's order."""
    import PyOpenColorIO as ocio

    return [str(cs.getName()) for cs in config.getColorSpaces(ocio.SEARCH_REFERENCE_SPACE_ALL, ocio.COLORSPACE_ACTIVE)]


def has_colour_space(config: OcioConfig, name: str) -> bool:
    """``name`` is a colour space, an alias or a role of ``config``."""
    return config.getColorSpace(name) is not None


def display_names(config: OcioConfig) -> list[str]:
    return [str(d) for d in config.getDisplays()]


def view_names(config: OcioConfig, display: str) -> list[str]:
    return [str(v) for v in config.getViews(display)]


def display_colour_space(config: OcioConfig, display: str, view: str) -> Any:
    """The display colour space ``view`` of ``display`` ends in (None when it names none)."""
    name = str(config.getDisplayViewColorSpaceName(display, view))
    return config.getColorSpace(display if name == "<USE_DISPLAY_NAME>" else name)


def _is_homogeneous(config: OcioConfig, source: str, reference: str) -> bool:
    """``source -> reference`` scales with its input (f(2x) = 2 f(x)): a linear-light space."""
    import numpy as np

    probe = np.array([[0.05, 0.2, 0.6], [0.1, 0.4, 1.2]], dtype=np.float32)
    config.getProcessor(source, reference).getDefaultCPUProcessor().applyRGB(probe)
    return bool(np.allclose(probe[1], 2.0 * probe[0], rtol=1e-4, atol=1e-6))


def source_is_scene_linear(config: OcioConfig, source: str) -> bool:
    """The space holds linear light: its ``encoding`` says so, or (no encoding given) its
    conversion to the config's ``scene_linear`` role is linear."""
    space = config.getColorSpace(source)
    if space is None:
        raise ColourConfigError(f"unknown colour space {source!r}")
    encoding = str(space.getEncoding())
    if encoding:
        return encoding == "scene-linear"
    if space.isData():
        return False
    reference = config.getColorSpace("scene_linear")
    return reference is None or _is_homogeneous(config, source, str(reference.getName()))
