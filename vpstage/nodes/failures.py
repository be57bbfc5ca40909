"""One-line descriptions of failures, for reports, error cards and the console."""

from __future__ import annotations

import traceback


def failure_text(exc: BaseException) -> str:
    """One-line description of an exception, with the innermost frame for the log."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" ({tb[-1].filename}:{tb[-1].lineno})" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}"
