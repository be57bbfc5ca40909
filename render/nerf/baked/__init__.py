"""Baked one-query-per-ray NeRF assets (i-NOLF style, NEPHELE §4.2), made from a trained NeRF.

A ray first marches a cached density texture (``density_texture.py``: sparse bricks of density
sampled from the source NeRF, indexed by a coarse occupancy grid) with empty-brick skipping and
early exit, accumulating a coarse opacity and finding its hit point (``texture_march.py``). Then
the baked field (``field.py``) is queried once at the hit point: a diffuse hash encoder + MLP
gives diffuse colour and a specular tint, a specular hash encoder + MLP fed with the SH-encoded
view direction and the coarse opacity gives specular colour and the refined opacity;
radiance = diffuse + tint * specular.

* ``model.py``: :class:`BakedNerfModel` (texture + field + the source's frames) renders rays;
* ``asset.py``: :class:`BakedNerfAsset`, the ``SceneAsset`` (``kind == 'baked-nerf'``);
* ``baked_format.py``: the ``.bnerf`` file (safetensors with a JSON header) and its loader;
* ``kernels/``: the texture marcher as a Triton kernel (CUDA), loaded lazily;
* ``bake/``: building the texture, the distillation from the source NeRF, evaluation.

Frames: as for NeRF assets (render/nerf/conventions.py): rays, crops and depths in the asset
frame; the texture and the field live in the source NeRF's normalised frame.
"""
