"""The wall's colour pipeline on the render side: OCIO chains baked to shaper + 3D LUT, applied in torch.

``shaper`` (source value -> grid coordinate), ``bake`` (OCIO processor -> LUT, cached), ``apply``
(the torch reference: (H, W, 3) float32 in, code values out), ``accuracy`` (LUT vs OCIO's CPU
processor), ``canvas_luts`` (a project's LUTs per canvas and source space) and ``probe`` (one
colour through a canvas, for ``main.py colour probe``). See docs/colour.md.
"""
