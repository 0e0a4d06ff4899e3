"""Alerts of access anomalies: listing them, dismissing one with a reason, turning one into an
incident.

A dismissal names a reason from a closed list (:class:`Reason`) and may carry a note, which
may hold personal data and is therefore sealed (AES-256-GCM under the ``anomalies`` system
key, bound to the alert's id). Both changes are audited with ids and codes only:
``alert.dismiss`` (the reason code, whether a note was given) and ``alert.incident`` (the
incident's id).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

from mamori.anomalies import storage
from mamori.anomalies.storage import AlertRow
from mamori.errors import Conflict, InvalidValue, NotFound
from mamori.store import db
from mamori.vault import crypto
from mamori.vault.core import Vault

__all__ = [
    "KEY_NAME",
    "NOTE_MAX",
    "STATUSES",
    "AlertRow",
    "Reason",
    "alert",
    "alerts",
    "dismiss",
    "link_incident",
    "note_of",
    "open_count",
]

KEY_NAME: Final = "anomalies"
NOTE_MAX: Final = 500
STATUSES: Final = ("open", "dismissed", "incident")
_ALERT_ID = re.compile(r"al_[0-9a-f]{24}")
_INCIDENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,40}")
_NOTE_BAD = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class Reason(StrEnum):
    """Why an alert was dismissed. The codes are stored and shown."""

    expected_work = "expected_work"
    """The reads were planned work (a campaign, a migration, a request)."""
    known_batch = "known_batch"
    """A known batch job or integration."""
    false_positive = "false_positive"
    """The rule fired on normal use: the thresholds may need adjusting."""
    test = "test"
    """A test or a drill."""
    other = "other"
    """Another reason, given in the note."""


def _shown(alert_id: str) -> str:
    return f"'{alert_id}'" if _ALERT_ID.fullmatch(alert_id) else "(not an alert id)"


def alerts(vault: Vault, status: str | None = None, *, limit: int = 200) -> list[AlertRow]:
    """The newest alerts, of one status when given (``open``, ``dismissed``, ``incident``)."""
    if status is not None and status not in STATUSES:
        raise InvalidValue(f"status: choose one of {', '.join(STATUSES)}")
    with db.read(vault.engine) as conn:
        return storage.alerts(conn, status, limit=limit)


def alert(vault: Vault, alert_id: str) -> AlertRow:
    with db.read(vault.engine) as conn:
        found = storage.alert(conn, alert_id)
    if found is None:
        raise NotFound(f"no alert {_shown(alert_id)}")
    return found


def open_count(vault: Vault) -> int:
    with db.read(vault.engine) as conn:
        return storage.count_open(conn)


def _note(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    text = text.strip()
    if len(text) > NOTE_MAX:
        raise InvalidValue(f"note: at most {NOTE_MAX} characters")
    if _NOTE_BAD.search(text):
        raise InvalidValue("note: control characters are not allowed")
    return text


def note_of(vault: Vault, row: AlertRow) -> str | None:
    """The dismissal's note, unsealed (for the console only)."""
    if row.note is None:
        return None
    key = vault.system_keys.get(KEY_NAME)
    plain = crypto.decrypt(key, row.note, subject_id=f"alert:{row.id}", item_id="note")
    return plain.decode("utf-8")


def dismiss(
    vault: Vault, *, actor: str, alert_id: str, reason: str, note: str | None = None
) -> AlertRow:
    """Dismiss an open alert with a reason code and an optional note; audited as
    ``alert.dismiss``. :class:`InvalidValue` for an unknown reason or a bad note,
    :class:`NotFound` for an unknown alert, :class:`Conflict` for one not open; nothing stored
    on any of them."""
    try:
        code = Reason(reason)
    except ValueError:
        raise InvalidValue(f"reason: choose one of {', '.join(Reason)}") from None
    text = _note(note)
    if code is Reason.other and text is None:
        raise InvalidValue("note: say why in the note when the reason is 'other'")
    key = vault.system_keys.get(KEY_NAME)  # made outside the write transaction below
    sealed = (
        crypto.encrypt(key, text.encode("utf-8"), subject_id=f"alert:{alert_id}", item_id="note")
        if text is not None
        else None
    )
    with db.write(vault.engine) as conn:
        done = storage.dismiss(
            conn, alert_id, reason=code.value, note=sealed, by=actor, at=vault.clock.now()
        )
        if done is None:
            if storage.alert(conn, alert_id) is not None:
                raise Conflict(f"alert {_shown(alert_id)} is not open: nothing more to do")
            raise NotFound(f"no alert {_shown(alert_id)}")
        vault.audit.append(
            conn,
            actor=actor,
            action="alert.dismiss",
            targets=[f"alert:{done.id}"],
            details={"rule": done.rule, "reason": code.value, "note": text is not None},
        )
    return done


def link_incident(vault: Vault, *, actor: str, alert_id: str, incident_id: str) -> AlertRow:
    """Record that an alert became incident ``incident_id``; audited as ``alert.incident``.
    :class:`Conflict` for a dismissed alert."""
    if not _INCIDENT_ID.fullmatch(incident_id):
        raise InvalidValue("incident: not an incident id")
    with db.write(vault.engine) as conn:
        done = storage.link_incident(conn, alert_id, incident_id, vault.clock.now())
        if done is None:
            if storage.alert(conn, alert_id) is not None:
                raise Conflict(f"alert {_shown(alert_id)} was dismissed: it cannot be an incident")
            raise NotFound(f"no alert {_shown(alert_id)}")
        vault.audit.append(
            conn,
            actor=actor,
            action="alert.incident",
            targets=[f"alert:{done.id}", f"incident:{incident_id}"],
            details={"rule": done.rule},
        )
    return done
