"""Operator console (PySide6 + pyqtgraph). May import every other layer."""
