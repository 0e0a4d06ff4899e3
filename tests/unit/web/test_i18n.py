from __future__ import annotations

import pytest

from mamori.web.i18n import negotiate, parse_accept_language


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9,ja;q=0.8", ["en", "en", "ja"]),
        ("ja;q=0.5, en;q=0.9", ["en", "ja"]),
        ("fr, en;q=0", ["fr"]),
        ("de;q=abc, ja", ["ja"]),
        ("", []),
    ],
)
def test_accept_language_is_ranked_by_quality(header: str, expected: list[str]) -> None:
    assert parse_accept_language(header) == expected


def test_query_wins_then_header_then_default() -> None:
    assert negotiate("en", "ja", "ja") == "en"
    assert negotiate(None, "fr, en;q=0.8, ja;q=0.5", "ja") == "en"
    assert negotiate(None, "fr", "ja") == "ja"
    assert negotiate(None, None, "en") == "en"
    with pytest.raises(ValueError):
        negotiate("fr", None, "ja")
