"""Gaussian splats: formats, the in-memory model, rasterizers (torch reference, Triton, gsplat), demo scene.

Entry points: ``render.assets.load_asset`` (any asset), ``render.splat.io.load_splat`` /
``save_splat`` (files <-> :class:`render.splat.model.SplatModel`), and
``render.splat.rasterize.rasterize_splats`` (the functional API). See docs/rendering.md.
"""
