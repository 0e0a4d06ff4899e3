"""One set of cookie preferences per person: the newest choice a known person made anywhere.

A browser's choices live in its first-party ``mamori_consent`` cookie, one per site. A person
is known when they made a choice signed in to the privacy center (the receipt carries them), or
when the host tied the browser's consent ID to them (:mod:`mamori.consent.links`). For a known
person the newest unexpired choice on the current cookie section wins wherever they are: the
center's cookie settings show a choice made on the operator's site, and the site's banner
adopts one made in the center (or on another of the operator's sites) the next time it loads.
Nothing new is recorded when a browser adopts a choice: the receipt of the choice is the proof.

A consent ID under which two different people made choices (a shared computer) names no one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import orjson

from mamori.consent import storage
from mamori.consent.choice import CONSENT_ID, Choice, cookie_lists, normalise
from mamori.errors import ConsentChoiceInvalid
from mamori.policy.model import Cookies
from mamori.store import db
from mamori.store.db import Engine
from mamori.vault.storage import subjects

__all__ = ["PersonChoice", "newest_choice", "person_of"]


@dataclass(frozen=True)
class PersonChoice:
    subject_id: str
    receipt: int
    chosen_at: dt.datetime
    choice: Choice

    def cookie_lists(self, cookies: Cookies) -> tuple[list[str], list[str]]:
        """(granted optional categories, services refused inside them): the cookie's lists."""
        return cookie_lists(cookies, self.choice)


def person_of(engine: Engine, consent_id: str) -> str | None:
    """The one person known to have made choices under ``consent_id``, if there is one.

    :class:`ConsentChoiceInvalid` for a malformed consent ID."""
    if not CONSENT_ID.fullmatch(consent_id):
        raise ConsentChoiceInvalid("id: give the 22 base64url characters of the consent ID")
    with db.read(engine) as conn:
        people = storage.people_of(conn, consent_id)
    return people[0] if len(people) == 1 else None


def newest_choice(
    engine: Engine, subject_id: str, cookies: Cookies, section_hash: str, now: dt.datetime
) -> PersonChoice | None:
    """The person's newest unexpired choice on the cookie section ``section_hash`` (whose
    registry is ``cookies``); ``None`` for a person who made none, or who withdrew."""
    with db.read(engine) as conn:
        record = subjects.record(conn, subject_id)
        if record is None or record.status == "withdrawn":
            return None
        row = storage.newest_of_person(conn, subject_id, section_hash, now)
    if row is None:
        return None
    choice = normalise(cookies, orjson.loads(row.categories), orjson.loads(row.services))
    return PersonChoice(subject_id, row.seq, row.created_at, choice)
