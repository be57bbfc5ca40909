"""vpstage domain core: stage model, pixel geometry, tracking maths, frustum, timing, takes.

Qt-free and torch-free at import (enforced by import-linter, see pyproject.toml).
"""

__version__ = "0.1.0"
