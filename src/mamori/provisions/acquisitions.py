"""Data received from another business (APPI 30): the recipient's check and its record.

A business that receives personal data from a third party confirms the provider's name, address
and, for a corporation, its representative, and how the provider obtained the data (APPI
30(1)), and records that with the person, the items and the date received (30(3), rule 24).
The host tells mamori what it confirmed; :func:`record` checks it (the person exists and has
not withdrawn, the items are declared in the policy, the date is not in the future) and writes
the record (``provision_acquisitions``) in one transaction with its audit entry
(``provision.acquire``, ids and flags only: never the provider's name or address).

The provider's facts are those of a business, not the person's data, and are kept as the host
gave them. A record is kept three years, or one year where a contract with the person for goods
or services stands in for it (rules 23(3), 25), counted from the date received, then deleted by
the hourly job ``provisions.purge`` (:func:`mamori.provisions.gate.purge_records`).
Withdrawal keeps it, as it keeps the provision records: the law asks for the record until then.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from mamori.errors import NotFound, UserInputError
from mamori.provisions import storage
from mamori.provisions.consents import active_person
from mamori.provisions.rules import retain_until
from mamori.provisions.storage import AcquisitionRow
from mamori.store import db
from mamori.vault.access import Caller
from mamori.vault.core import Vault
from mamori.vault.storage import subjects

__all__ = ["MAX_ITEMS", "MAX_TEXT", "AcquisitionRow", "Provider", "of_subject", "record"]

MAX_TEXT: Final = 1000
"""The longest provider fact (name, address, representative, how obtained), in characters."""
MAX_ITEMS: Final = 200
"""Items in one record."""
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
"""Control characters (TAB and LF are allowed)."""


@dataclass(frozen=True)
class Provider:
    """The business the data came from, as the host confirmed it (APPI 30(1)(i))."""

    name: str
    """Its name, in Japanese."""
    address: str
    representative: str | None = None
    """For a corporation, its representative (required unless ``individual``)."""
    name_en: str | None = None
    individual: bool = False
    """The provider is a natural person (it has no representative)."""
    keeps_records: bool | None = None
    """The provider is a business that keeps its own record of the provision (APPI 29), as the
    host knows it; None when not stated. Informational."""


def _text(what: str, value: str | None, *, required: bool = True) -> None:
    if value is None:
        if required:
            raise UserInputError(f"give the provider's {what}")
        return
    if not value.strip():
        raise UserInputError(f"the provider's {what} is blank")
    if len(value) > MAX_TEXT:
        raise UserInputError(f"the provider's {what} is longer than {MAX_TEXT} characters")
    if _CONTROL.search(value):
        raise UserInputError(f"the provider's {what} contains control characters")


def _facts(provider: Provider, how_obtained: str) -> dict[str, object]:
    _text("name", provider.name)
    _text("English name", provider.name_en, required=False)
    _text("address", provider.address)
    _text("representative", provider.representative, required=not provider.individual)
    _text("way of obtaining the data (how_obtained)", how_obtained)
    return {
        "name": {"ja": provider.name, "en": provider.name_en},
        "address": provider.address,
        "representative": provider.representative,
        "individual": provider.individual,
        "keeps_records": provider.keeps_records,
        "how_obtained": how_obtained,
    }


def record(
    vault: Vault,
    caller: Caller,
    subject_id: str,
    *,
    provider: Provider,
    how_obtained: str,
    items: Sequence[str],
    received_at: dt.datetime | None = None,
    contract: bool = False,
) -> AcquisitionRow:
    """Record that ``items`` of the person were received from ``provider`` (by default now).

    ``contract``: received under a contract with the person for goods or services whose
    document stands in for the record (rule 23(3)): kept one year instead of three. Needs the
    ``write`` operation; :class:`NotFound` for an unknown person,
    :class:`~mamori.errors.SubjectWithdrawn` for one who withdrew, :class:`UserInputError`
    for an unknown item, a fact missing or too long, a date in the future or one whose retention
    has already ended."""
    caller.require("write")
    wanted = tuple(dict.fromkeys(items))
    if not wanted or len(wanted) > MAX_ITEMS:
        raise UserInputError(f"give between 1 and {MAX_ITEMS} items")
    rules = vault.rules()
    for item in wanted:
        rules.item(item)
    facts = _facts(provider, how_obtained)
    now = vault.clock.now()
    at = now if received_at is None else received_at
    if at.tzinfo is None:
        raise UserInputError("the date received needs a time zone")
    if at > now:
        raise UserInputError("the date received is in the future: give when the data arrived")
    if retain_until(at, contract=contract) <= now:  # compared before any conversion: year 1
        raise UserInputError(
            "the date received is so long ago that its record need no longer be kept"
        )
    at = at.astimezone(dt.UTC)
    until = retain_until(at, contract=contract)
    row = AcquisitionRow(
        id=f"pa_{secrets.token_hex(12)}",
        subject_id=subject_id,
        received_at=at,
        provider=facts,
        items=wanted,
        contract=contract,
        policy_version=rules.version,
        actor=caller.actor_id,
        recorded_at=now,
        retain_until=until,
    )
    with db.write(vault.engine) as conn:
        active_person(conn, subject_id)
        storage.insert_acquisition(conn, row)
        vault.audit.append(
            conn,
            actor=caller.actor_id,
            action="provision.acquire",
            targets=[f"subject:{subject_id}", f"acquisition:{row.id}"],
            details={
                "items": len(wanted),
                "contract": contract,
                "individual": provider.individual,
                "keeps_records": provider.keeps_records,
                "policy_version": rules.version,
            },
        )
    return row


def of_subject(vault: Vault, subject_id: str) -> list[AcquisitionRow]:
    """Every record of data received about the person, oldest first (withdrawn people too)."""
    with db.read(vault.engine) as conn:
        if subjects.record(conn, subject_id) is None:
            raise NotFound(f"no subject '{subject_id}'")
        return storage.acquisitions_of(conn, subject_id)
