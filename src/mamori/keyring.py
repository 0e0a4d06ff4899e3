"""Versioned master keys, read from the environment, a key file or the output of a command (a
secret manager's client), never from the database.

Format, in ``MAMORI_MASTER_KEY`` (comma-separated), in the key file or in what
``MAMORI_MASTER_KEY_COMMAND`` prints (one per line, ``#`` comments allowed)::

    1:3q2+7wQ5...base64 of 32 random bytes...=

The highest version is the current one; older versions stay to unwrap what they wrapped until
rotation has rewrapped everything. On the embedded default, the first start creates the file with
owner-only permissions (0600) and refuses to use one that others can read.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import shlex
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from mamori.errors import KeyFileError

__all__ = [
    "KEY_BYTES",
    "MasterKeys",
    "create_key_file",
    "parse_keys",
    "read_key_file",
    "run_key_command",
]

KEY_BYTES = 32


@dataclass(frozen=True)
class MasterKeys:
    """The master keys by version. ``repr`` never shows key material."""

    keys: dict[int, bytes] = field(repr=False)
    origin: str

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyFileError(f"{self.origin}: no master key found")

    @property
    def current_version(self) -> int:
        return max(self.keys)

    @property
    def current(self) -> bytes:
        return self.keys[self.current_version]

    def get(self, version: int) -> bytes:
        try:
            return self.keys[version]
        except KeyError:
            raise KeyFileError(
                f"{self.origin}: master key version {version} is missing; it is needed to "
                "unwrap data keys that rotation has not rewrapped yet"
            ) from None


def parse_keys(text: str, origin: str) -> MasterKeys:
    """Parse ``VERSION:BASE64`` entries separated by commas or new lines."""
    keys: dict[int, bytes] = {}
    entries = [e.strip() for line in text.splitlines() for e in line.split("#", 1)[0].split(",")]
    for number, entry in enumerate((e for e in entries if e), start=1):
        version_text, sep, encoded = entry.partition(":")
        if not sep or not version_text.strip().isdigit():
            raise KeyFileError(f"{origin}: entry {number} is not VERSION:BASE64KEY")
        version = int(version_text)
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise KeyFileError(f"{origin}: key version {version} is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise KeyFileError(
                f"{origin}: key version {version} has {len(key)} bytes; it must have {KEY_BYTES}"
            )
        if version in keys:
            raise KeyFileError(f"{origin}: key version {version} is given twice")
        keys[version] = key
    return MasterKeys(keys, origin)


def read_key_file(path: Path) -> MasterKeys:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyFileError(f"{path}: master-key file not found") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"{path}: master-key file is readable by others (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}"
        )
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"{path}: cannot read the master-key file ({exc})") from None
    return parse_keys(text, str(path))


def run_key_command(command: str, *, timeout: float) -> MasterKeys:
    """The master keys a command prints on standard output (``MAMORI_MASTER_KEY_COMMAND``).

    The command line is split like a shell would (:func:`shlex.split`) but run without one, so
    nothing in it is expanded or interpreted. Its standard output is never shown: a failure is
    one line naming the command's program, its exit status and the last line it wrote on
    standard error.
    """
    origin = "MAMORI_MASTER_KEY_COMMAND"
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise KeyFileError(f"{origin}: cannot split the command line ({exc})") from None
    if not argv:
        raise KeyFileError(f"{origin}: the command is empty")
    program = argv[0]
    try:
        done = subprocess.run(
            argv,
            shell=False,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise KeyFileError(f"{origin}: program not found: {program}") from None
    except PermissionError:
        raise KeyFileError(f"{origin}: program is not executable: {program}") from None
    except subprocess.TimeoutExpired:
        raise KeyFileError(
            f"{origin}: {program} did not finish within {timeout:g} seconds "
            "(MAMORI_MASTER_KEY_COMMAND_TIMEOUT_SECONDS)"
        ) from None
    except OSError as exc:
        raise KeyFileError(f"{origin}: cannot run {program} ({exc.strerror or exc})") from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        said = f": {lines[-1].strip()[:200]}" if lines else ""
        raise KeyFileError(f"{origin}: {program} exited with status {done.returncode}{said}")
    try:
        text = done.stdout.decode("ascii")
    except UnicodeDecodeError:
        raise KeyFileError(f"{origin}: {program} printed something that is not ASCII") from None
    return parse_keys(text, origin)


def create_key_file(path: Path) -> MasterKeys:
    """Create a key file holding version 1, readable and writable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(KEY_BYTES)
    body = (
        "# mamori master keys: VERSION:BASE64. Keep this file secret and backed up apart from\n"
        "# the database; losing it makes every encrypted value unreadable.\n"
        f"1:{base64.b64encode(key).decode('ascii')}\n"
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_key_file(path)
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot create the master-key file ({exc.strerror})") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(body)
    return MasterKeys({1: key}, str(path))
