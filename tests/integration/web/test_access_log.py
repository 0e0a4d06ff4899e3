"""The access log never holds a query string (e-mail look-ups, tokens)."""

from __future__ import annotations

import logging
from pathlib import Path

from uvicorn.logging import AccessFormatter

from mamori.config import Settings
from mamori.web import access_log
from mamori.web.app import create_app


def _line(target: str) -> str:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", target, "1.1", 200),
        None,
    )
    logger = logging.getLogger("uvicorn.access")
    assert logger.filter(record)
    return AccessFormatter("%(message)s", use_colors=False).format(record)


def test_query_strings_are_cut_from_the_access_log() -> None:
    access_log.install()
    access_log.install()  # once only
    logger = logging.getLogger("uvicorn.access")
    assert sum(isinstance(f, access_log._NoQuery) for f in logger.filters) == 1
    line = _line("/api/v1/subjects?item=email&value=hanako@example.jp")
    assert "hanako" not in line and "/api/v1/subjects" in line and "200" in line
    assert "/privacy" in _line("/privacy")


def test_tokens_in_paths_are_masked() -> None:
    access_log.install()
    line = _line("/mail/unsubscribe/eyJzIjoiYWJjIn0.SECRETSIG/resume")
    assert "SECRETSIG" not in line and "/mail/unsubscribe/<token>/resume" in line
    assert "SECRET" not in _line("/mail/unsubscribe/SECRET?x=1")
    assert "/center/enter" in _line("/center/enter?token=SECRET") and "SECRET" not in _line(
        "/center/enter?token=SECRET"
    )


def test_the_app_installs_it(tmp_path: Path) -> None:
    logger = logging.getLogger("uvicorn.access")
    for f in list(logger.filters):
        logger.removeFilter(f)
    create_app(Settings(data_dir=tmp_path))  # the runtime opens only at startup
    assert any(isinstance(f, access_log._NoQuery) for f in logger.filters)
