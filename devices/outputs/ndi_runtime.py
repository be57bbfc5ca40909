"""The NDI library for the whole process: its configuration (loopback or studio) and its start.

NDI reads its configuration once, when ``NDIlib.initialize()`` runs. In ``loopback`` mode
(rehearsal, the default) we write an ``ndi-config.v1.json`` into a private folder and point
``NDI_CONFIG_DIR`` at it first, so discovery and announcements stay on 127.0.0.1 (a configured
discovery server also makes senders skip mDNS). ``studio`` mode leaves NDI's own configuration
alone; it is an explicit project setting (``network.mode: studio``). The mode cannot change
while the process runs: NDI has been configured by then.
"""

from __future__ import annotations

import atexit
import json
import os
import tempfile
import threading
from pathlib import Path
from types import ModuleType
from typing import Literal

from vpstage.config import atomic_write_text

NetworkMode = Literal["loopback", "studio"]

LOOPBACK_CONFIG = {"ndi": {"networks": {"ips": "127.0.0.1", "discovery": "127.0.0.1"}}}
CONFIG_FILE = "ndi-config.v1.json"


class NdiUnavailable(RuntimeError):
    """NDI cannot be used here; the message says why and what to do."""


_lock = threading.Lock()
_state: dict[str, object] = {}


def write_loopback_config(folder: Path) -> Path:
    """Write the loopback-only NDI configuration into ``folder``; returns the file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG_FILE
    atomic_write_text(path, json.dumps(LOOPBACK_CONFIG, indent=2) + "\n", backup=False)
    return path


def ndi(mode: NetworkMode = "loopback") -> ModuleType:
    """The initialised ``NDIlib`` module, configured for ``mode`` (first call wins; thread-safe)."""
    with _lock:
        if "module" in _state:
            if _state["mode"] != mode:
                raise NdiUnavailable(f"NDI is already running in {_state['mode']} mode in this process; "
                                     f"restart to switch to {mode}")
            module = _state["module"]
            assert isinstance(module, ModuleType)
            return module
        if mode == "loopback":
            folder = Path(tempfile.mkdtemp(prefix="vpstage-ndi-"))
            write_loopback_config(folder)
            os.environ["NDI_CONFIG_DIR"] = str(folder)
            _state["config_dir"] = folder
        try:
            import NDIlib
        except ImportError as exc:
            raise NdiUnavailable(f"the ndi-python package is not importable ({exc}); "
                                 "install it with `pip install ndi-python`") from exc
        if not NDIlib.initialize():
            raise NdiUnavailable("NDIlib.initialize() failed: this CPU is not supported by the NDI runtime")
        atexit.register(NDIlib.destroy)
        _state.update(module=NDIlib, mode=mode)
        return NDIlib


def config_dir() -> Path | None:
    """The private configuration folder of loopback mode (None before NDI starts or in studio mode)."""
    folder = _state.get("config_dir")
    return folder if isinstance(folder, Path) else None
