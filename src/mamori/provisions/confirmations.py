"""Confirming a person's consent before person-related information goes to a recipient that
links it to people (APPI 31): cookie IDs, advertising IDs, browsing history.

A provision to such a recipient (``person_related`` in the policy) needs, for each person,
their consent to the recipient and purpose (the gate's consent basis) and a cookie choice that
allows every cookie service the recipient collects through (``cookie_services``): the newest
unexpired choice the person made, signed in to the privacy center or under a consent ID the
host tied to them (:mod:`mamori.consent.links`). Without it the items are refused
(``cookie_consent_missing``). What was confirmed is kept in the provision's record (APPI 31(3)
applies 30(3): a record of the confirmation): the receipt's sequence number, the consent ID and
the services, besides the provision consent relied on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from mamori.consent import storage as consent_storage
from mamori.provisions.rules import Plan
from mamori.store.db import Connection

__all__ = ["Confirmation", "confirmed", "confirmed_receipts"]

Confirmation = dict[str, object]
"""How one person's consent was confirmed, as the record keeps it (canonical JSON)."""


def confirmed(
    plan_: Plan, conn: Connection, subject_ids: Sequence[str], now: dt.datetime
) -> dict[str, Confirmation]:
    """subject id -> the confirmation, for the people whose newest cookie choice allows every
    cookie service of the recipient (everyone when it declares none: their provision consent
    is then the confirmation). Only for a :attr:`Plan.person_related` recipient."""
    services = tuple(plan_.recipient.cookie_services)
    if not services:
        return {subject_id: {"services": []} for subject_id in subject_ids}
    found: dict[str, Confirmation] = {}
    choices = consent_storage.latest_choices(conn, subject_ids, now, services)
    listed = list(services)
    for subject_id, (seq, consent_id, allowed) in choices.items():
        if allowed:
            found[subject_id] = {"receipt": seq, "consent_id": consent_id, "services": listed}
    return found


def confirmed_receipts(
    plan_: Plan, conn: Connection, subject_ids: Sequence[str], now: dt.datetime
) -> dict[str, int | None]:
    """:func:`confirmed` as a streamed provision keeps it per person: subject id -> the
    receipt confirmed (None when the recipient declares no cookie service)."""
    services = tuple(plan_.recipient.cookie_services)
    if not services:
        return dict.fromkeys(subject_ids)
    choices = consent_storage.latest_choices(conn, subject_ids, now, services)
    return {subject_id: seq for subject_id, (seq, _, allowed) in choices.items() if allowed}
