"""Mail templates: both languages, operator overrides, clear errors at start and in the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.errors import MailTemplateError
from mamori.mail.templates import PACKAGED, MailTemplates
from mamori.store import db
from tests.helpers.cli import Ran, mamori
from tests.helpers.runtime import open_test_runtime


def test_every_packaged_template_has_both_languages_and_renders() -> None:
    templates = MailTemplates()
    assert templates.check() == []
    assert {"test", "news", "_marketing_footer"} <= set(templates.names)
    names = {p.name.split(".")[0] for p in PACKAGED.glob("*.txt")}
    assert names == set(templates.names)
    for name in names:
        for lang in ("ja", "en"):  # one packaged file, its words in the catalogs of both
            assert templates.path(name, lang) == PACKAGED / f"{name}.txt", f"{name} ({lang})"


def test_subject_is_one_line_and_variables_are_not_escaped() -> None:
    rendered = MailTemplates().render(
        "news", "en", {"operator": "A & B <Co>", "body": "Line 1\nLine <2> & 3"}
    )
    assert rendered.subject == "News from A & B <Co>"
    assert "Line <2> & 3" in rendered.body  # text mail: no HTML escaping


def test_a_context_value_cannot_break_the_subject_header() -> None:
    rendered = MailTemplates().render("test", "en", {"operator": "Evil\r\nBcc: x@example.jp"})
    assert "\n" not in rendered.subject and "\r" not in rendered.subject


def test_the_operators_folder_overrides_a_packaged_template(
    tmp_path: Path, database_url: str
) -> None:
    folder = tmp_path / "mail-templates"
    folder.mkdir()
    (folder / "test.ja.txt").write_text(
        "Subject: 【{{ operator }}】上書きしたテンプレート\n\n運営者の文面です。\n",
        encoding="utf-8",
    )
    runtime = open_test_runtime(tmp_path, database_url, mail_templates_dir=folder)
    try:
        with db.write(runtime.engine) as conn:
            ja = runtime.mail.queue(
                conn, to="a@example.jp", template="test", language="ja", context={}
            )
            en = runtime.mail.queue(
                conn, to="a@example.jp", template="test", language="en", context={}
            )
        with db.read(runtime.engine) as conn:
            mail_ja, mail_en = runtime.mail.open(conn, ja), runtime.mail.open(conn, en)
    finally:
        runtime.close()
    assert mail_ja.subject == "【株式会社ココチエ】上書きしたテンプレート"
    assert mail_ja.body == "運営者の文面です。\n"
    assert mail_en.subject == "Kokochie Co., Ltd.: test message"  # the packaged English one


def _write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"notice.ja.txt": "Subject: お知らせ\n\n本文\n"},
            "mail template 'notice' has no 'en' version",
        ),
        ({"test.en.txt": "Hello\n\nbody\n"}, "test.en.txt:1: a mail template starts with"),
        (
            {"test.en.txt": "Subject: x\n\n{% if %}\n"},
            "test.en.txt:3: template syntax error",
        ),
        ({"test.fr.txt": "Subject: x\n\ny\n"}, "language 'fr' is not ja or en"),
        ({"Test Mail.txt": "Subject: x\n\ny\n"}, "named <template>.<ja|en>.txt"),
    ],
)
def test_a_broken_template_stops_the_start_with_one_clear_line(
    tmp_path: Path, database_url: str, files: dict[str, str], message: str
) -> None:
    folder = tmp_path / "mail-templates"
    for name, text in files.items():
        _write(folder, name, text)
    with pytest.raises(MailTemplateError) as caught:
        open_test_runtime(tmp_path, database_url, mail_templates_dir=folder)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def _cli(*args: str, env: dict[str, str]) -> Ran:
    return mamori(*args, env=env, check=None)


def test_mail_check_reports_a_missing_language(tmp_path: Path) -> None:
    ok = _cli("mail", "check", env={"MAMORI_DATA_DIR": str(tmp_path)})
    assert ok.returncode == 0, ok.stderr
    assert "each in ja and en: ok" in ok.stdout
    assert "embedded outbox" in ok.stdout
    folder = tmp_path / "t"
    _write(folder, "reminder.en.txt", "Subject: Reminder\n\nHello\n")
    bad = _cli("mail", "check", env={"MAMORI_MAIL_TEMPLATES_DIR": str(folder)})
    assert bad.returncode == 2
    assert bad.stderr.strip() == "mamori: mail template 'reminder' has no 'ja' version"
    assert "Traceback" not in bad.stderr
