"""The scene renderer render workers plug in: inner pixels in perspective from the tracked camera,
outer pixels from the outer viewpoint (cached), several assets composited by depth, any engine.
Factory: ``"render.scene:build_scene_renderer"`` (see ``renderer.py``)."""

from render.scene.renderer import SceneCanvasRenderer, build_scene_renderer

__all__ = ["SceneCanvasRenderer", "build_scene_renderer"]
