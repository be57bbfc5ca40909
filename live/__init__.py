"""The live engine: everything that puts the tracked camera's view on the wall, composed for the
console and ``main.py run`` (see :class:`live.engine.LiveEngine`)."""

from live.engine import LiveEngine, LiveEvents
from live.options import DEMO_SCENE, SCENE_RENDERER, LiveOptions, ReplaySpec, default_takes_db

__all__ = ["DEMO_SCENE", "SCENE_RENDERER", "LiveEngine", "LiveEvents", "LiveOptions", "ReplaySpec",
           "default_takes_db"]
