"""A policy file is untrusted input: hostile files get one clear problem, fast, never a crash.

Issue 10: a 342-byte file of nested aliases took 4.6 GB and never finished; a 5 MB file took
145 s; deep nesting or a 100,000-digit number gave a traceback.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from mamori.errors import PolicyError, PolicyFileError
from mamori.policy.loader import MAX_BYTES, MAX_DEPTH, MAX_NODES, parse_policy, read_policy
from tests.helpers.paths import EXAMPLE

LAUGHS = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{c}: &{c} [{','.join(f'*{p}' for _ in range(9))}]"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)


def _problem(text: str) -> str:
    started = time.monotonic()
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "hostile.yaml")
    assert time.monotonic() - started < 15, "a hostile file must be refused quickly"
    problems = caught.value.problems
    assert len(problems) == 1
    return str(problems[0])


def test_billion_laughs_is_refused_before_anything_expands() -> None:
    assert len(LAUGHS) < 400
    assert "anchors and aliases" in _problem(LAUGHS)


def test_a_single_anchor_is_refused_too() -> None:
    assert "hostile.yaml:2: YAML anchors" in _problem("schema: mamori/v1\nid: &x kokochie\n")


def test_depth_is_bounded() -> None:
    deep = "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
    assert f"nests deeper than {MAX_DEPTH} levels" in _problem(deep)
    # far deeper than Python's recursion limit: still one problem
    assert "nests deeper" in _problem("a: " + "[" * 100_000 + "]" * 100_000)


def test_the_number_of_values_is_bounded() -> None:
    many = "a:\n" + "".join(f"  - {i}\n" for i in range(MAX_NODES + 10))
    assert f"more than {MAX_NODES:,} values" in _problem(many)


def test_a_number_too_long_to_convert_names_its_line() -> None:
    problem = _problem("schema: mamori/v1\nid: x\nn: " + "9" * 100_000 + "\n")
    assert problem.startswith("hostile.yaml:3: unreadable value: Exceeds the limit")


def test_size_is_bounded_for_text_and_files(tmp_path: Path) -> None:
    big = "# " + "x" * MAX_BYTES + "\n"
    assert f"the limit is {MAX_BYTES:,} bytes" in _problem(big)
    path = tmp_path / "big.yaml"
    path.write_text(big, encoding="utf-8")
    with pytest.raises(PolicyFileError, match="the limit is 1,048,576 bytes"):
        read_policy(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00binary", "not UTF-8 text (byte 0)"),
        (b"schema: mamori/v1\nid: \xe3\x81", "not UTF-8 text (byte 22)"),
    ],
)
def test_bytes_that_are_not_text(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(content)
    with pytest.raises(PolicyFileError, match=re.escape(message)):
        read_policy(path)


def test_a_folder_and_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match="is a folder"):
        read_policy(tmp_path)
    with pytest.raises(PolicyFileError, match="no such file"):
        read_policy(tmp_path / "nope.yaml")


def test_the_worked_example_is_well_inside_every_limit() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert len(text.encode()) * 10 < MAX_BYTES
    assert read_policy(EXAMPLE).policy.id == "kokochie"
