"""The shred log: who withdrew and when, kept outside the database so that a restore cannot
revive them.

A database backup taken before a withdrawal still holds the person's wrapped data key. Every
withdrawal therefore also appends one line to this file, inside the withdrawal's transaction
(a failure to write it fails the withdrawal), and ``mamori restore`` replays the file after
restoring: each person it names who is active in the restored database is withdrawn again (items,
events and key destroyed), audited as ``subject.withdraw.replay``.

The file holds subject IDs and times only. Each line is sealed with an HMAC chain::

    {"n": 7, "subject": "sub_...", "at": "2026-12-04T02:34:11.123456Z", "v": 2, "mac": "..."}

``mac`` = HMAC-SHA256(K_v, mac of line n-1 || n || subject || at), where K_v is derived from
master-key version ``v`` (never stored), so a line cannot be forged, altered, removed or moved
without the master key: :func:`read` names the first line that does not verify. Because the key
is the master key and not a key in the database, the file is checked before the database is
touched. Before an old master-key version is retired, :func:`reseal` seals every line again under
the current version. Cutting lines off the *end* cannot be told from a shorter history: keep the
file append-only (``chattr +a``) and copy it off the host (it holds no personal data).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import hmac
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import orjson

from mamori.errors import ConfigError, ShredLogError
from mamori.vault.crypto import MasterKeySource

__all__ = ["ShredEntry", "ShredLog", "ShredLogError", "read", "reseal"]

_LABEL: Final = b"mamori:shred-log\x00"
_START: Final = bytes(32)
_TAIL_BYTES: Final = 4096


@dataclass(frozen=True)
class ShredEntry:
    n: int
    subject_id: str
    at: dt.datetime


def _key(keys: MasterKeySource, version: int) -> bytes:
    return hmac.new(keys.get(version), _LABEL, hashlib.sha256).digest()


def _mac(key: bytes, prev: bytes, n: int, subject_id: str, at: str) -> bytes:
    body = prev + f"{n}\x00{subject_id}\x00{at}".encode()
    return hmac.new(key, body, hashlib.sha256).digest()


def _stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _line(
    keys: MasterKeySource, prev: bytes, n: int, subject_id: str, at: str
) -> tuple[str, bytes]:
    version = keys.current_version
    mac = _mac(_key(keys, version), prev, n, subject_id, at)
    record = {"n": n, "subject": subject_id, "at": at, "v": version, "mac": mac.hex()}
    return orjson.dumps(record).decode("ascii") + "\n", mac


class ShredLog:
    """Appends to the shred log at ``path``; safe across threads and processes (an exclusive
    ``flock`` on the file while a line is added)."""

    def __init__(self, path: Path, keys: MasterKeySource) -> None:
        self.path = path
        self.keys = keys

    def append(self, subject_id: str, at: dt.datetime) -> None:
        """Add a line for ``subject_id`` and make it durable (fsync) before returning."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            while True:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
                fcntl.flock(fd, fcntl.LOCK_EX)
                # :func:`reseal` may have replaced the file while this one waited for the lock
                if os.fstat(fd).st_ino == os.stat(self.path).st_ino:
                    break
                os.close(fd)
        except OSError as exc:
            raise ShredLogError(
                f"{self.path}: cannot open the shred log ({exc.strerror or exc}); "
                "check MAMORI_SHRED_LOG"
            ) from None
        try:
            n, prev = _last(fd, self.path)
            text, _ = _line(self.keys, prev, n + 1, subject_id, _stamp(at))
            os.write(fd, text.encode("ascii"))
            os.fsync(fd)
        except OSError as exc:
            raise ShredLogError(
                f"{self.path}: cannot write the shred log ({exc.strerror or exc})"
            ) from None
        finally:
            os.close(fd)  # closing releases the lock


def _last(fd: int, path: Path) -> tuple[int, bytes]:
    """(number, mac) of the last line, read from the end of the file; (0, start) if empty."""
    size = os.fstat(fd).st_size
    if size == 0:
        return 0, _START
    start = max(0, size - _TAIL_BYTES)
    tail = os.pread(fd, size - start, start)
    lines = tail.rstrip(b"\n").rsplit(b"\n", 1)
    try:
        last = orjson.loads(lines[-1])
        return int(last["n"]), bytes.fromhex(last["mac"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise ShredLogError(
            f"{path}: the last line of the shred log is damaged; restore it from its copy"
        ) from None


def _parse(path: Path, keys: MasterKeySource) -> Iterator[tuple[ShredEntry, int, str]]:
    """Every line, verified: (entry, its key version, its stamp)."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ShredLogError(f"{path}: cannot read the shred log ({exc.strerror})") from None
    prev = _START
    with handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{path}: line {number}"
            try:
                record = orjson.loads(raw)
                n, subject_id, at = int(record["n"]), str(record["subject"]), str(record["at"])
                version, mac = int(record["v"]), bytes.fromhex(record["mac"])
                when = dt.datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                raise ShredLogError(f"{where} is not a shred-log line") from None
            if n != number:
                raise ShredLogError(f"{where}: numbered {n}; a line was removed or moved")
            try:
                key = _key(keys, version)
            except ConfigError:
                raise ShredLogError(
                    f"{where}: sealed by master-key version {version}, which is not loaded"
                ) from None
            if not hmac.compare_digest(_mac(key, prev, n, subject_id, at), mac):
                raise ShredLogError(
                    f"{where} does not verify: the shred log was altered from this line on"
                )
            prev = mac
            yield ShredEntry(n, subject_id, when), version, at


def read(path: Path, keys: MasterKeySource) -> list[ShredEntry]:
    """Every entry of the log at ``path`` (none if there is no file), each verified;
    :class:`ShredLogError` naming the first line that does not."""
    return [entry for entry, _, _ in _parse(path, keys)]


def reseal(path: Path, keys: MasterKeySource) -> int:
    """Seal every line again under the current master-key version (before an old version is
    retired); the file is replaced atomically under the writers' lock. How many lines."""
    if not path.exists():
        return 0
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if all(v == keys.current_version for _, v, _ in _parse(path, keys)):
            return sum(1 for _ in _parse(path, keys))
        prev, lines = _START, []
        for entry, _, at in _parse(path, keys):
            text, prev = _line(keys, prev, entry.n, entry.subject_id, at)
            lines.append(text)
        temp_fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(temp_fd, "w", encoding="ascii") as handle:
            handle.write("".join(lines))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        return len(lines)
    finally:
        os.close(fd)
