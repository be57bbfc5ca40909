"""Tokens: created by `main.py token create`, printed once, stored only as salted hashes (atomic
save in the project folder); roles checked on every request."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from remote.tokens import TOKENS_FILE, TokenStore

ROOT = Path(__file__).resolve().parents[2]


def test_a_token_is_stored_hashed_and_grants_its_role(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / TOKENS_FILE)
    viewer, operator = store.create("viewer", label="DP tablet"), store.create("operator")
    assert viewer != operator and len(viewer) >= 40
    text = (tmp_path / TOKENS_FILE).read_text()
    assert viewer not in text and operator not in text
    assert store.role_of(viewer) == "viewer" and store.role_of(operator) == "operator"
    assert store.role_of(viewer[:-1]) is None and store.role_of("") is None
    fresh = TokenStore(tmp_path / TOKENS_FILE)  # another process reads the same file
    assert fresh.role_of(operator) == "operator"
    assert [e.label for e in fresh.entries()] == ["DP tablet", ""]
    assert sorted(p.name for p in tmp_path.iterdir()) == [TOKENS_FILE]  # no temporary files left
    with pytest.raises(ValueError, match="role"):
        store.create("admin")


def test_token_create_prints_the_token_once_and_keeps_its_hash_beside_the_project(tmp_path: Path) -> None:
    project = tmp_path / "stage.yaml"
    project.write_text((ROOT / "configs" / "stages" / "demo.yaml").read_text())
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "token", "create", "--role", "operator",
                           "--project", str(project)], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert "\n" not in token and "shown only now" in done.stderr
    document = json.loads((tmp_path / TOKENS_FILE).read_text())
    assert [t["role"] for t in document["tokens"]] == ["operator"]
    assert token not in json.dumps(document)
    assert TokenStore.for_project(project).role_of(token) == "operator"
    bad = subprocess.run([sys.executable, str(ROOT / "main.py"), "token", "create", "--role", "viewer",
                          "--project", str(tmp_path / "missing.yaml")], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "no such project file" in bad.stderr
