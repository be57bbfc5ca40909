"""Atomic file saves: temporary file, fsync, rename; the previous version kept as ``.bak``.

The data goes to ``.<name>.<random>.tmp`` beside the target, is fsynced, and renamed over the
target; the directory is fsynced last. Any failure leaves the old file as it was and removes the
temporary file. A process killed mid-save (SIGKILL, power cut) cannot clean up after itself, so
every save first removes the temporary files of earlier saves of the same target whose writer is
gone: a writer holds an ``flock`` on its temporary file until the rename, and the kernel drops that
lock when the process dies, so a temporary file nobody holds a lock on is stale.

The backup is a hard link to the previous file (made just before the rename; a copy where the
filesystem has no hard links), so it is never a half-written copy.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import tempfile
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    """Make a directory's entries (a new or renamed file in it) durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temporary_pattern(target: Path) -> re.Pattern[str]:
    """Names ``tempfile.mkstemp(prefix=".<name>.", suffix=".tmp")`` gives (8 random characters)."""
    return re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]{{8}}\.tmp")


def stale_temporaries(target: Path) -> list[Path]:
    """Temporary files left beside ``target`` by saves that did not finish (their writer is gone)."""
    pattern = _temporary_pattern(target)
    try:
        names = [entry.name for entry in os.scandir(target.parent) if pattern.fullmatch(entry.name)]
    except OSError:
        return []
    return [target.parent / name for name in names if _unowned(target.parent / name)]


def _unowned(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # a live save holds it
    finally:
        os.close(fd)
    return True


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Remove what :func:`stale_temporaries` finds; returns the files removed."""
    removed = []
    for path in stale_temporaries(target):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed


def _keep_backup(target: Path) -> None:
    """``target.bak`` becomes the current ``target`` (a hard link, else a copy)."""
    bak = target.with_name(target.name + ".bak")
    with contextlib.suppress(FileNotFoundError):
        bak.unlink()
    try:
        os.link(target, bak)
    except OSError:
        shutil.copy2(target, bak)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, backup: bool = True) -> None:
    """Write ``data`` to ``path`` atomically; keep the old file as ``path + '.bak'``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    renamed = False
    try:
        with os.fdopen(fd, "wb") as handle:  # the lock lasts until this closes, after the rename
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            if target.exists():
                with contextlib.suppress(OSError):
                    shutil.copymode(target, tmp)
                if backup:
                    _keep_backup(target)
            os.replace(tmp, target)
            renamed = True
        fsync_dir(target.parent)
    except BaseException:
        if not renamed:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str, *, backup: bool = True) -> None:
    """UTF-8 text version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"), backup=backup)
