"""Where the console keeps its own settings (window geometry, dock layout, editor toggles).

One INI file, ``console.ini``, in ``$VPSTAGE_CONFIG_DIR`` when set, else the user's config folder
(``~/.config/vpstage`` on Linux). Tests pass their own file.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths


def config_dir() -> Path:
    override = os.environ.get("VPSTAGE_CONFIG_DIR")
    if override:
        return Path(override)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    return Path(base or Path.home() / ".config") / "vpstage"


def console_settings(path: str | Path | None = None) -> QSettings:
    """The console's QSettings (INI format) at ``path`` or ``config_dir()/console.ini``."""
    target = Path(path) if path is not None else config_dir() / "console.ini"
    target.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(target), QSettings.Format.IniFormat)
