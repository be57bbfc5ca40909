"""The Qt binding must keep None's reference count (PySide6 6.12.0 on CPython < 3.12 does not:
every void method call drops a reference to None until the interpreter aborts)."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 (PEP 683)")
def test_void_qt_calls_keep_none_alive(qtbot: QtBot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(1000):
        label.setText("x")
        label.update()
    assert sys.getrefcount(None) - before > -100  # a buggy binding loses 2000 here
