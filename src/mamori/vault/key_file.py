"""Changing the master-key file safely, and master keys that follow its changes.

:func:`add_version` and :func:`remove_version` rewrite the file atomically: the new text goes to
a temporary file in the same folder, created with mode 600, flushed to disk, then renamed over
the old one (``os.replace``), so a reader sees the old file or the new one, never half of one,
and the keys are never readable by others even for a moment. An exclusive lock on
``<file>.lock`` serialises two rotations started at once.

:class:`ReloadingKeys` is what a long-running server should hold: it reads the file again when
asked for a version it does not know (a rotation in another process rewrapped a data key under
it) and, every few seconds, when the file has changed (so that new data keys are wrapped under
the newest version).
"""

from __future__ import annotations

import base64
import fcntl
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mamori.errors import KeyFileError, MasterKeyInUse, NotFound
from mamori.keyring import KEY_BYTES, MasterKeys, parse_keys, read_key_file

__all__ = ["ReloadingKeys", "add_version", "remove_version"]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    lock_path = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise KeyFileError(f"{lock_path}: cannot open the lock file ({exc.strerror})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, owner-only, and durably."""
    folder = path.parent
    temp: str | None = None
    try:
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            os.fchmod(handle.fileno(), 0o600)  # mkstemp does this; say it, do not rely on it
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        temp = None
    except OSError as exc:
        raise KeyFileError(
            f"{path}: cannot rewrite the master-key file ({exc.strerror or exc}); it is unchanged"
        ) from None
    finally:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
    try:  # make the rename itself survive a crash (best effort: not every file system can)
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def _read_text(path: Path) -> tuple[str, MasterKeys]:
    keys = read_key_file(path)  # checks the permissions and the format
    return path.read_text(encoding="ascii"), keys


def add_version(path: Path) -> MasterKeys:
    """Append the next version (32 random bytes) to the key file; the new keys."""
    path = path.resolve()  # a symlinked key file stays a symlink: its target is rewritten
    with _locked(path):
        text, keys = _read_text(path)
        version = keys.current_version + 1
        entry = f"{version}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode('ascii')}\n"
        new_text = text if not text or text.endswith("\n") else text + "\n"
        new_text += entry
        new_keys = parse_keys(new_text, str(path))
        if new_keys.current_version != version or len(new_keys.keys) != len(keys.keys) + 1:
            raise KeyFileError(f"{path}: adding master key version {version} failed; unchanged")
        _replace(path, new_text)
        return new_keys


def remove_version(
    path: Path, version: int, *, check: Callable[[MasterKeys], None] | None = None
) -> MasterKeys:
    """Remove ``version`` from the key file; the keys left.

    ``check`` runs under the file's lock with the keys as they are, and may raise to refuse.
    Comments and the other entries are kept as they are.
    """
    path = path.resolve()
    with _locked(path):
        text, keys = _read_text(path)
        if version not in keys.keys:
            raise NotFound(f"{path}: master key version {version} is not in the file")
        if version == keys.current_version:
            raise MasterKeyInUse(
                f"master key version {version} is the current one; "
                "run `mamori keys rotate` before retiring it"
            )
        if check is not None:
            check(keys)
        new_text = "".join(_without(line, version) for line in text.splitlines(keepends=True))
        left = parse_keys(new_text, str(path))
        if version in left.keys or len(left.keys) != len(keys.keys) - 1:
            raise KeyFileError(f"{path}: removing master key version {version} failed; unchanged")
        _replace(path, new_text)
        return left


def _without(line: str, version: int) -> str:
    """``line`` without the entry of ``version`` (a line may hold several, comma-separated)."""
    body, hash_, comment = line.rstrip("\n").partition("#")
    entries = [e.strip() for e in body.split(",") if e.strip()]
    kept = [e for e in entries if e.partition(":")[0].strip() != str(version)]
    if len(kept) == len(entries):
        return line
    if not kept and not hash_:
        return ""
    return ",".join(kept) + (f" #{comment}" if hash_ else "") + "\n"


class ReloadingKeys:
    """The master keys of a key file, read again when it changes (see the module's docs)."""

    def __init__(self, path: Path, *, check_every: float = 5.0) -> None:
        self.path = path
        self.check_every = check_every
        self._lock = threading.Lock()
        self._keys = read_key_file(path)
        self._stamp = self._file_stamp()
        self._checked = time.monotonic()

    def _file_stamp(self) -> tuple[int, int, int]:
        st = self.path.stat()
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def reload(self, *, force: bool = False) -> MasterKeys:
        """Read the file again if it changed (always with ``force``); the keys now in use."""
        with self._lock:
            stamp = self._file_stamp()
            if force or stamp != self._stamp:
                self._keys = read_key_file(self.path)
                self._stamp = stamp
            self._checked = time.monotonic()
            return self._keys

    def _fresh(self) -> MasterKeys:
        if time.monotonic() - self._checked >= self.check_every:
            try:
                return self.reload()
            except (OSError, KeyFileError):
                # A periodic check must not break reads: keep the keys in use. Asking for a
                # version they lack reads the file again and reports what is wrong.
                self._checked = time.monotonic()
        return self._keys

    @property
    def origin(self) -> str:
        return str(self.path)

    @property
    def keys(self) -> dict[int, bytes]:
        return self._fresh().keys

    @property
    def current_version(self) -> int:
        return self._fresh().current_version

    @property
    def current(self) -> bytes:
        return self._fresh().current

    def get(self, version: int) -> bytes:
        key = self._keys.keys.get(version)
        if key is None:
            key = self.reload().keys.get(version)
        if key is None:
            return self._keys.get(version)  # raises KeyFileError naming the version
        return key
