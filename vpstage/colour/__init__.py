"""Colour pipeline settings and checks (OpenColorIO, imported lazily inside functions).

``settings`` holds the project's ``colour`` section (pydantic), ``cube_file`` reads and writes
``.cube`` LUT files, ``ocio_config`` loads configs and resolves names, ``outputs`` picks each
canvas's display / view, ``transforms`` builds the OCIO transform a canvas applies, and ``checks``
turns all of it into located problems. Baking and applying LUTs lives in ``render/colour``.
"""
