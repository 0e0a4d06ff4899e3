from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from mamori.errors import KeyFileError
from mamori.keyring import create_key_file, parse_keys, read_key_file


def _key(byte: int) -> str:
    return base64.b64encode(bytes([byte]) * 32).decode()


def test_created_key_file_is_owner_only_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "master.key"
    keys = create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.current_version == 1 and len(keys.current) == 32
    again = read_key_file(path)
    assert again.current == keys.current
    assert create_key_file(path).current == keys.current  # never overwrites


def test_key_material_never_appears_in_repr(tmp_path: Path) -> None:
    keys = create_key_file(tmp_path / "k")
    assert base64.b64encode(keys.current).decode() not in repr(keys)
    assert keys.current.hex() not in repr(keys)


def test_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k"
    create_key_file(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match=r"readable by others .*chmod 600"):
        read_key_file(path)


def test_several_versions_and_the_current_one() -> None:
    keys = parse_keys(f"1:{_key(1)}, 3:{_key(3)}\n2:{_key(2)} # rotated", "env")
    assert keys.current_version == 3
    assert keys.get(2) == bytes([2]) * 32
    with pytest.raises(KeyFileError, match="version 9 is missing"):
        keys.get(9)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no master key found"),
        ("abc", "entry 1 is not VERSION:BASE64KEY"),
        ("1:not base64!", "not valid base64"),
        (f"1:{base64.b64encode(b'short').decode()}", "has 5 bytes; it must have 32"),
        (f"1:{_key(1)},1:{_key(2)}", "version 1 is given twice"),
    ],
)
def test_bad_keys_get_one_clear_line(text: str, message: str) -> None:
    with pytest.raises(KeyFileError, match=message) as caught:
        parse_keys(text, "MAMORI_MASTER_KEY")
    assert "\n" not in str(caught.value)
