"""The form for one tracking source (FreeD over UDP or serial, OpenTrackIO, OSC) and its dialog.

The form holds only what is being typed; ``source()`` validates it through the project model
(``vpstage.stage.tracking_edits.build_source``) and raises EditError naming the bad field, so
the dialog can keep the operator's input and say what to fix.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from vpstage.config.endpoints import Endpoint, parse_endpoint
from vpstage.stage.change import EditError
from vpstage.stage.model import TrackingSource
from vpstage.stage.tracking_edits import build_source

DEFAULT_PORTS = {"freed": 40000, "opentrackio": 55555, "osc": 8000}
PROTOCOL_LABELS = {"freed": "FreeD D1", "opentrackio": "OpenTrackIO", "osc": "OSC"}
BAUD_RATES = ("38400", "19200", "57600", "115200", "9600")


def camera_id_value(text: str) -> int | str | None:
    """Camera id as typed: empty -> None (any stream), digits -> int, else the text."""
    text = text.strip()
    if not text:
        return None
    return int(text) if text.isdigit() else text


class SourceForm(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = QLineEdit()
        self.protocol = QComboBox()
        for key, label in PROTOCOL_LABELS.items():
            self.protocol.addItem(label, key)
        self.transport = QComboBox()
        self.transport.addItem("UDP", "udp")
        self.transport.addItem("Serial (RS-422/232)", "serial")
        self.host = QLineEdit("127.0.0.1")
        self.port = QSpinBox()
        self.port.setRange(0, 65535)
        self.port.setValue(DEFAULT_PORTS["freed"])
        self.device = QLineEdit("/dev/ttyUSB0")
        self.baud = QComboBox()
        self.baud.addItems(BAUD_RATES)
        self.parity = QComboBox()
        self.parity.addItems(["odd", "even", "none"])
        self.camera_id = QLineEdit()
        self.camera_id.setPlaceholderText("any")
        self.multicast = QLineEdit()
        self.multicast.setPlaceholderText("unicast")
        self.lost_after = QDoubleSpinBox()
        self.lost_after.setRange(10.0, 60000.0)
        self.lost_after.setValue(500.0)
        self.lost_after.setSuffix(" ms")
        self.osc_map = QComboBox()
        self.osc_map.addItems(["vp", "loled", "zigsim"])
        self._form = QFormLayout(self)
        for label, widget in (("Name", self.name), ("Protocol", self.protocol), ("Transport", self.transport),
                              ("Listen on host", self.host), ("Port", self.port), ("Serial device", self.device),
                              ("Baud", self.baud), ("Parity", self.parity), ("Camera id", self.camera_id),
                              ("Multicast group", self.multicast), ("Lost after", self.lost_after),
                              ("OSC address map", self.osc_map)):
            self._form.addRow(label, widget)
        self.protocol.currentIndexChanged.connect(self._on_protocol)
        self.transport.currentIndexChanged.connect(lambda _i: self._update_rows())
        self._update_rows()

    def _on_protocol(self, _index: int) -> None:
        protocol = self.protocol.currentData()
        if self.port.value() in DEFAULT_PORTS.values():
            self.port.setValue(DEFAULT_PORTS[protocol])
        if protocol != "freed":
            self.transport.setCurrentIndex(0)
        self._update_rows()

    def _update_rows(self) -> None:
        protocol, serial = self.protocol.currentData(), self.transport.currentData() == "serial"
        visible = {self.transport: protocol == "freed", self.host: not serial, self.port: not serial,
                   self.device: serial, self.baud: serial, self.parity: serial,
                   self.multicast: protocol == "opentrackio", self.osc_map: protocol == "osc"}
        for widget, shown in visible.items():
            self._form.setRowVisible(widget, shown)

    def values(self) -> dict[str, Any]:
        protocol = self.protocol.currentData()
        serial = protocol == "freed" and self.transport.currentData() == "serial"
        address = (str(Endpoint("serial", device=self.device.text().strip())) if serial
                   else str(Endpoint("udp", host=self.host.text().strip(), port=self.port.value())))
        data: dict[str, Any] = {"name": self.name.text().strip(), "protocol": protocol, "address": address,
                                "camera_id": camera_id_value(self.camera_id.text()),
                                "lost_after_ms": self.lost_after.value()}
        if serial:
            data.update(serial_baud=int(self.baud.currentText()), serial_parity=self.parity.currentText())
        if protocol == "opentrackio" and self.multicast.text().strip():
            data["multicast_group"] = self.multicast.text().strip()
        if protocol == "osc":
            data["osc_map"] = self.osc_map.currentText()
        return data

    def source(self, keep: TrackingSource | None = None) -> TrackingSource:
        """The source as typed (fields the form does not show are kept from ``keep``)."""
        data = keep.model_dump() if keep is not None else {}
        data.update(self.values())
        if data.get("protocol") != "opentrackio":
            data["multicast_group"] = None
        return build_source(data)

    def set_source(self, source: TrackingSource) -> None:
        endpoint = parse_endpoint(source.address)
        self.name.setText(source.name)
        self.protocol.setCurrentIndex(self.protocol.findData(source.protocol))
        self.transport.setCurrentIndex(self.transport.findData(endpoint.kind))
        if endpoint.kind == "udp":
            self.host.setText(endpoint.host)
            self.port.setValue(endpoint.port)
        else:
            self.device.setText(endpoint.device)
        self.baud.setCurrentText(str(source.serial_baud))
        self.parity.setCurrentText(source.serial_parity)
        self.camera_id.setText("" if source.camera_id is None else str(source.camera_id))
        self.multicast.setText(source.multicast_group or "")
        self.lost_after.setValue(source.lost_after_ms)
        self.osc_map.setCurrentText(source.osc_map)
        self._update_rows()


class SourceDialog(QDialog):
    """Add or edit a source; ``result_source`` holds the validated source once accepted."""

    def __init__(self, title: str, source: TrackingSource | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.form = SourceForm()
        self._keep = source
        if source is not None:
            self.form.set_source(source)
        self.error = QLabel()
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(self.form)
        box.addWidget(self.error)
        box.addWidget(buttons)
        self.result_source: TrackingSource | None = None

    def accept(self) -> None:
        try:
            self.result_source = self.form.source(self._keep)
        except EditError as exc:
            self.error.setText(str(exc))
            return
        super().accept()
