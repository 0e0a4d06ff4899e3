"""Properties of the detectors over any text: they never fail, and full-width text is judged
as its NFKC form."""

from __future__ import annotations

import datetime as dt
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.datasets.discovery import detect

TODAY = dt.date(2026, 12, 1)
_JAPANESE_DIGITS = st.text(
    alphabet=st.sampled_from(
        list("0123456789０１２３４５６７８９-－ー 〒@＠.東京都渋谷区市町村年月日")
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), _JAPANESE_DIGITS))
def test_any_text_is_judged_without_failing(text: str) -> None:
    for detection in detect(text, today=TODAY):
        assert 0 <= detection.score <= 1


@settings(max_examples=300, deadline=None)
@given(_JAPANESE_DIGITS)
def test_full_width_is_judged_as_its_nfkc_form(text: str) -> None:
    assert detect(text, today=TODAY) == detect(unicodedata.normalize("NFKC", text), today=TODAY)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_the_my_number_check_digit_is_python_stdnums(first_eleven: str) -> None:
    from stdnum.jp import in_

    from mamori.datasets.discovery.numbers import my_number_check_digit

    assert my_number_check_digit(first_eleven) == in_.calc_check_digit(first_eleven)
