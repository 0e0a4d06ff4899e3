"""Request numbers: twelve digits with a Damm check digit, typed any way a person types them;
every single wrong digit and every swap of neighbours is refused as a typo."""

from __future__ import annotations

import pytest

from mamori.errors import UserInputError
from mamori.requests import numbers


def test_a_new_number_is_twelve_digits_that_parse_back() -> None:
    seen = {numbers.new_number() for _ in range(200)}
    assert len(seen) == 200
    for number in seen:
        assert len(number) == 12 and number.isascii() and number.isdigit()
        assert numbers.parse(numbers.format_number(number)) == number


NUMBER = "123456789018"  # 12345678901 and its Damm check digit, 8
FULL_WIDTH = "".join(chr(ord(c) + 0xFEE0) for c in NUMBER)


@pytest.mark.parametrize(
    "typed",
    [
        "1234-5678-9018",
        NUMBER,
        " 1234 5678 9018 ",
        f"{FULL_WIDTH[:4]}－{FULL_WIDTH[4:8]}－{FULL_WIDTH[8:]}",  # typed with a Japanese IME
        "1234ー5678ー9018",  # the long-vowel mark an IME gives for a hyphen
    ],
)
def test_a_number_is_read_however_it_is_typed(typed: str) -> None:
    assert numbers.parse(typed) == NUMBER
    assert numbers.looks_like_number(typed)


def test_every_single_wrong_digit_and_every_neighbour_swap_is_refused() -> None:
    number = numbers.new_number()
    for i in range(12):
        for d in "0123456789":
            if d != number[i]:
                wrong = number[:i] + d + number[i + 1 :]
                with pytest.raises(UserInputError, match="check digit"):
                    numbers.parse(wrong)
    for i in range(11):
        if number[i] != number[i + 1]:
            swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
            with pytest.raises(UserInputError, match="check digit"):
                numbers.parse(swapped)


@pytest.mark.parametrize(
    "typed", ["", "1234-5678", "1234-5678-90123", "abcd-efgh-ijkl", "١٢٣٤٥٦٧٨٩٠١٢"]
)
def test_what_cannot_be_a_number_is_refused_with_the_form_it_takes(typed: str) -> None:
    with pytest.raises(UserInputError, match="twelve digits"):
        numbers.parse(typed)
    assert not numbers.looks_like_number(typed)
