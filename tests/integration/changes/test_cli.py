"""`mamori policy diff` and `mamori policy publish` as a user runs them."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import edits
from tests.helpers.cli import mamori
from tests.helpers.paths import EXAMPLE, MINIMAL


def test_diff_of_two_files_in_both_languages(env: dict[str, str], tmp_path: Path) -> None:
    new = edits.write_edited(tmp_path / "new.yaml", edits.foreign_contractor, edits.revision)
    ja = mamori("policy", "diff", str(EXAMPLE), str(new), env=env).stdout.splitlines()
    assert ja[0] == "分類: consent_required (同意が必要)"
    assert any("外国(US)にある委託先「Example Mail Inc.」" in line for line in ja)
    assert ja[-1] == "同意が必要な提供先(記録 ID): contractor:mailer"
    en = mamori("policy", "diff", str(EXAMPLE), str(new), "--lang", "en", env=env).stdout
    assert "a contractor in US" in en
    same = mamori("policy", "diff", str(EXAMPLE), str(EXAMPLE), env=env).stdout
    assert same.strip() == "変更はありません"


def test_publish_prints_the_classification_and_diff_reads_versions(
    env: dict[str, str], tmp_path: Path
) -> None:
    mamori("init", env=env)
    new = edits.write_edited(tmp_path / "new.yaml", edits.unrelated_purpose, edits.revision)
    out = mamori("policy", "publish", str(new), "--lang", "en", env=env).stdout.splitlines()
    assert out[0] == "published version 2"
    assert out[1] == "classification: consent_required (consent required)"
    assert "uses needing consent: address -> partner_offers, email -> partner_offers" in out
    by_version = mamori("policy", "diff", "1", "v2", "--lang", "en", env=env).stdout
    assert "“To tell you about partners' offers”" in by_version
    related = edits.write_edited(tmp_path / "related.yaml", edits.related_purpose, edits.revision)
    notice = mamori("policy", "publish", str(related), env=env).stdout.splitlines()
    assert notice[0] == "published version 3"
    assert notice[1] == "分類: notify (お知らせが必要)"
    assert "intact" in mamori("audit", "verify", env=env).stdout


def test_mistakes_are_one_line(env: dict[str, str], tmp_path: Path) -> None:
    missing = mamori("policy", "diff", str(tmp_path / "nope.yaml"), str(MINIMAL), env=env, check=2)
    assert missing.stderr.strip() == f"mamori: {tmp_path / 'nope.yaml'}: no such file"
    mamori("init", env=env)
    unknown = mamori("policy", "diff", "1", "9", env=env, check=2)
    assert unknown.stderr.strip() == "mamori: policy version 9 does not exist"
    huge = mamori("policy", "diff", "1", str(2**63), env=env, check=2)
    assert huge.stderr.strip() == f"mamori: policy version {2**63} does not exist"


def test_a_policy_file_with_mistakes_lists_each_as_check_does(
    env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    text = MINIMAL.read_text(encoding="utf-8")
    bad.write_text(text.replace("items: [usage_history]", "items: [usage]"), encoding="utf-8")
    checked = mamori("policy", "check", str(bad), env=env, check=2)
    problems = [line for line in checked.stdout.splitlines() if line.strip()]
    assert problems and all(line.startswith(str(bad)) for line in problems)
    for command in (("policy", "diff", str(MINIMAL), str(bad)), ("policy", "publish", str(bad))):
        result = mamori(*command, env=env, check=2)
        lines = result.stderr.splitlines()
        assert lines[:-1] == problems  # every problem with file, line and path
        assert lines[-1].startswith("mamori: ") and "problem" in lines[-1]
        assert "Traceback" not in result.stderr
