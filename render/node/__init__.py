"""The render node: one process (or Ray actor) per GPU that owns its device, its canvases and
their outputs. It follows the frame master's orders (``vpstage.nodes``), renders on its device
into pinned host buffers, and presents at each frame's deadline; see ``runtime.py``."""
