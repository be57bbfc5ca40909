"""TLS when a certificate is configured, and `main.py run --web` serving a headless run."""

from __future__ import annotations

import datetime
import json
import re
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from remote.server import WebSettings
from remote.tokens import TokenStore
from tests.remote.conftest import rehearsal_engine, serve
from vpstage.stage import Stage

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.network


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (PEM files)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_the_server_speaks_tls_when_a_certificate_is_configured(small: Stage, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    engine = rehearsal_engine(small)
    try:
        served = serve(engine, tmp_path, WebSettings(cert=cert, key=key))
        try:
            assert served.url.startswith("https://127.0.0.1:")
            served.ssl_context = ssl.create_default_context(cafile=str(cert))
            reply = served.call("/api/status", token=served.viewer)
            assert reply.status == 200 and reply.body["engine"] == "ready"
            plain = served.url.replace("https://", "http://") + "api/status"
            with pytest.raises((urllib.error.URLError, ConnectionError)):
                urllib.request.urlopen(plain, timeout=10)
        finally:
            served.server.stop()
    finally:
        engine.close()


@pytest.mark.slow
def test_main_run_web_serves_the_api_and_stops_on_engine_stop(small: Stage, tmp_path: Path) -> None:
    assert small.path is not None
    stage = Path(small.path)
    token = TokenStore.for_project(stage).create("operator")
    report = tmp_path / "report.json"
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "run", "--stage", str(stage), "--simulate", "orbit", "--outputs",
         "none", "--cluster", "threads", "--report", str(report), "--frames", "3000", "--web", "127.0.0.1:0",
         "--db", str(tmp_path / "takes.sqlite")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        assert process.stdout is not None
        for line in process.stdout:
            found = re.search(r"web viewer at (https?://\S+/)", line)
            if found:
                url = found.group(1)
                break
        assert url is not None, process.stderr.read() if process.stderr else ""

        def post(path: str, body: object) -> tuple[int, dict[str, object]]:
            request = urllib.request.Request(url + path, data=json.dumps(body).encode(),
                                             headers={"Authorization": f"Bearer {token}"})
            try:
                with urllib.request.urlopen(request, timeout=30) as reply:
                    return reply.status, json.loads(reply.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read())

        assert post("api/pattern", {"pattern": "grid"})[0] == 200
        status, body = post("api/take/start", {"slate": "W001"})
        assert status == 200, body
        assert post("api/engine/stop", {})[0] == 200
        assert process.wait(120) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    result = json.loads(report.read_text())
    assert result["take"]["name"] == "W001_T01" and result["take"]["status"] == "complete"
