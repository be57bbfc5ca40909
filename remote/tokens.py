"""Client tokens for the web viewer and the control API, stored hashed in the project folder.

``TokenStore.create(role)`` makes a random token (256 bits, URL-safe), keeps only its salted
SHA-256 digest (a high-entropy token needs no slow hash) in ``remote_tokens.json`` beside the
project file (atomic save, ``vpstage.config.atomic_write_text``), and returns the token: it is
shown once and never stored. ``role_of(token)`` compares digests in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vpstage.config import atomic_write_text

Role = Literal["viewer", "operator"]
ROLES: tuple[Role, ...] = ("viewer", "operator")
TOKENS_FILE = "remote_tokens.json"
TOKEN_BYTES = 32


@dataclass(frozen=True, kw_only=True)
class TokenEntry:
    id: str
    role: Role
    salt: str
    digest: str
    created: float
    label: str = ""


def token_digest(token: str, salt: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + token.encode("utf-8")).hexdigest()


def tokens_path(project_file: str | Path) -> Path:
    """The token file of a project: beside the project file."""
    return Path(project_file).resolve().parent / TOKENS_FILE


class TokenStore:
    """The tokens of one project (thread-safe; the file is re-read when it changed on disk)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._entries: list[TokenEntry] = []
        self._mtime_ns: int | None = None

    @classmethod
    def for_project(cls, project_file: str | Path) -> TokenStore:
        return cls(tokens_path(project_file))

    def create(self, role: str, label: str = "") -> str:
        """A new token for ``role``; returns the token (the only time it exists in clear)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        salt = secrets.token_hex(16)
        entry = TokenEntry(id=secrets.token_hex(4), role=role, salt=salt, digest=token_digest(token, salt),
                           created=time.time(), label=label)
        with self._lock:
            entries = [*self._read(), entry]
            document = {"version": 1, "tokens": [e.__dict__ for e in entries]}
            atomic_write_text(self.path, json.dumps(document, indent=2) + "\n", backup=False)
            self._entries, self._mtime_ns = entries, self._stat()
        return token

    def role_of(self, token: str) -> Role | None:
        """The role ``token`` grants, or None."""
        with self._lock:
            entries = self._read()
        found: Role | None = None
        for entry in entries:
            if hmac.compare_digest(token_digest(token, entry.salt), entry.digest):
                found = entry.role
        return found

    def entries(self) -> list[TokenEntry]:
        with self._lock:
            return list(self._read())

    def _stat(self) -> int | None:
        try:
            return self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def _read(self) -> list[TokenEntry]:
        mtime = self._stat()
        if mtime == self._mtime_ns:
            return self._entries
        self._mtime_ns = mtime
        if mtime is None:
            self._entries = []
            return self._entries
        document = json.loads(self.path.read_text(encoding="utf-8"))
        self._entries = [TokenEntry(**e) for e in document.get("tokens", []) if e.get("role") in ROLES]
        return self._entries
