"""The CLI as a user runs it: one line for a mistake, never a traceback, exit codes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.helpers.cli import mamori
from tests.helpers.paths import EXAMPLE, MINIMAL


def test_check_valid_and_invalid(env: dict[str, str], tmp_path: Path) -> None:
    ok = mamori("policy", "check", str(EXAMPLE), env=env)
    assert "OK" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        MINIMAL.read_text(encoding="utf-8")
        .replace("items: [email, usage_history]", "items: [emial, usage_history]")
        .replace("{date: 2024-10-29,", "{date: 2021-01-01,"),
        encoding="utf-8",
    )
    result = mamori("policy", "check", str(bad), env=env, check=2)
    lines = result.stdout.splitlines()
    assert any(
        "purposes[0].items[0]: unknown data item 'emial' (did you mean 'email'?)" in line
        for line in lines
    )
    assert any("revisions[1].date" in line for line in lines)
    assert all(line.startswith(f"{bad}:") for line in lines)
    assert "3 problems" in result.stderr  # emial, 2021-01-01, and email now unused


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["policy", "check", "/nonexistent/policy.yaml"], "no such file"),
        (["policy", "render", "/nonexistent/policy.yaml"], "no such file"),
    ],
)
def test_missing_file_is_one_line(env: dict[str, str], args: list[str], message: str) -> None:
    result = mamori(*args, env=env, check=None)
    assert result.returncode == 2
    assert message in result.stderr or message in result.stdout


def test_unreachable_database_and_bad_url_are_one_line(env: dict[str, str]) -> None:
    env = {**env, "MAMORI_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    result = mamori("policy", "versions", env=env, check=3)
    assert result.stderr.count("\n") == 1 and "cannot be reached" in result.stderr
    env["MAMORI_DATABASE_URL"] = "mysql://x"
    result = mamori("policy", "versions", env=env, check=2)
    assert result.stderr.startswith("mamori: MAMORI_DATABASE_URL:")


def test_render_is_deterministic(env: dict[str, str], tmp_path: Path) -> None:
    for lang in ("ja", "en"):
        for fmt in ("html", "md"):
            one = mamori("policy", "render", str(EXAMPLE), "--lang", lang, "--format", fmt, env=env)
            two = mamori("policy", "render", str(EXAMPLE), "--lang", lang, "--format", fmt, env=env)
            assert one.stdout == two.stdout and len(one.stdout) > 1000
    out = tmp_path / "policy.md"
    mamori("policy", "render", str(EXAMPLE), "--format", "md", "-o", str(out), env=env)
    assert "株式会社ココチエ" in out.read_text(encoding="utf-8")


def test_publish_versions_audit(env: dict[str, str], tmp_path: Path) -> None:
    mamori("init", env=env)
    unchanged = mamori("policy", "publish", str(EXAMPLE), env=env)
    assert "unchanged" in unchanged.stdout
    assert "published version 2" in mamori("policy", "publish", str(MINIMAL), env=env).stdout
    versions = mamori("policy", "versions", env=env).stdout
    assert "kokochie" in versions and "minimal" in versions
    assert "intact" in mamori("audit", "verify", env=env).stdout
    tail = mamori("audit", "tail", "-n", "5", env=env).stdout
    assert "policy.publish" in tail
    checkpoint = mamori("audit", "checkpoint", env=env).stdout
    assert "root" in checkpoint
    assert "1" in mamori("audit", "prove", "1", env=env).stdout


def test_a_joint_use_change_dated_today_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from tests.helpers import edits

    mamori("init", env=env)
    today = dt.datetime.now(ZoneInfo("Asia/Tokyo")).date().isoformat()
    path = edits.write_edited(
        tmp_path / "joint.yaml", edits.joint_use_purposes, edits.revision_on(today)
    )
    result = mamori("policy", "publish", str(path), env=env, check=2)
    assert result.stderr.count("\n") == 1 and "APPI 27(6)" in result.stderr
    assert "Traceback" not in result.stderr
    assert "minimal" not in mamori("policy", "versions", env=env).stdout
    assert mamori("policy", "versions", env=env).stdout.count("kokochie") == 1


def test_verify_names_the_edited_entry(env: dict[str, str], database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("edits the SQLite file directly; the PostgreSQL variant is in tests/audit")
    mamori("init", env=env)
    mamori("policy", "publish", str(MINIMAL), env=env)
    path = database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE audit_entries SET actor = 'intruder' WHERE seq = 2")
    result = mamori("audit", "verify", env=env, check=4)
    assert "entry 2" in result.stderr
    assert result.stderr.count("\n") == 1


def test_bad_option_is_a_usage_error_not_a_traceback(env: dict[str, str]) -> None:
    result = mamori("policy", "render", str(EXAMPLE), "--lang", "fr", env=env, check=2)
    assert "fr" in result.stderr


def test_first_start_on_a_fresh_folder_needs_nothing(env: dict[str, str], tmp_path: Path) -> None:
    mamori("init", env=env)
    key = tmp_path / "data" / "master.key"
    assert key.exists() and key.stat().st_mode & 0o777 == 0o600
    again = mamori("init", env=env)  # a second run changes nothing
    assert "version 1" in again.stdout


def test_datasets_check_says_when_none_is_declared(env: dict[str, str], tmp_path: Path) -> None:
    assert mamori("init", env=env).returncode == 0
    ran = mamori("datasets", "check", "--folder", str(tmp_path / "nowhere"), env=env)
    assert ran.returncode == 0
    assert f"none declared (no dataset files in {tmp_path / 'nowhere'})" in ran.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["consent", "export"],
        ["provisions", "export"],
        ["statistics", "export", "statistics"],
    ],
)
def test_an_export_to_a_folder_that_is_not_there_is_one_line(
    env: dict[str, str], tmp_path: Path, args: list[str]
) -> None:
    assert mamori("init", env=env).returncode == 0
    target = tmp_path / "missing" / "out.csv"
    ran = mamori(*args, "--output", str(target), env=env, check=None)
    assert ran.returncode == 1
    assert ran.stderr.strip().splitlines() == [
        f"mamori: {target}: cannot write: No such file or directory"
    ]
    assert "Traceback" not in ran.stderr + ran.stdout
