"""What a detector reports: the kinds of personal data found and a finding in one value."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Detection", "Kind"]


class Kind(StrEnum):
    """A kind of personal data that discovery recognises in a value."""

    email = "email"
    phone = "phone"
    postal_code = "postal_code"
    address = "address"
    person_name = "person_name"
    birth_date = "birth_date"
    my_number = "my_number"
    corporate_number = "corporate_number"
    card_number = "card_number"


@dataclass(frozen=True, slots=True)
class Detection:
    """One kind recognised in a value.

    ``score`` is how sure the detector is that the value is of the kind (0 to 1); ``whole``
    says whether the whole value is of the kind or only a part of a longer text mentions one;
    ``check_digit`` is the outcome of the kind's check digit where it has one (My Number,
    corporate number, Luhn for cards), ``None`` otherwise.
    """

    kind: Kind
    score: float
    whole: bool = True
    check_digit: bool | None = None
