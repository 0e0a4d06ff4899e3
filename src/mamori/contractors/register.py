"""The register of contractors (委託先) and their supervision (APPI 25).

The policy declares the contractors (recipients with the relationship ``contractor``) and what
each may receive for which purposes; the register holds what the operator did about them: the
contracts of entrustment (signed on, term, the items entrusted, where the document is kept) and
the supervision checks (due, done, result, evidence). Every change is one transaction with its
audit entry (``contractor.*``: ids, dates, counts and codes only, never a note's text).

Dates are calendar days in the operator's time zone (MAMORI_TIME_ZONE): "today" is
:func:`mamori.clock.local_date` of the runtime's clock. A contractor's **standing** on a day:

- ``no_contract``: nothing on file yet. Provisions still go (the register is being filled);
  the console shows it for attention.
- ``in_force``: a contract that began on or before the day, has not reached its end and was
  not ended early.
- ``not_started`` / ``ended``: contracts on file, none in force (the only ones begin later; or
  they ended, at their term or early).
- ``check_failed``: the last supervision check done failed (a later passed check lifts it).

The last three **suspend** the entrustment (:func:`suspended`): the provision gate refuses a
provision on the basis ``entrustment`` for everyone (``entrustment_suspended``), and the
contractor's own API key reads nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from mamori.clock import local_date
from mamori.contractors import storage
from mamori.contractors.storage import CheckRow, ContractRow
from mamori.errors import Conflict, ContractorEntryInvalid, ContractorNotFound, NotFound
from mamori.policy.model import Recipient, Relationship
from mamori.policy.rules import Rules, nearest
from mamori.store import db
from mamori.store.db import Connection
from mamori.vault.core import Vault

__all__ = [
    "NOTE_MAX",
    "CheckResult",
    "CheckRow",
    "ContractRow",
    "Contractor",
    "Standing",
    "attention",
    "complete_check",
    "contractor",
    "contractors",
    "end_contract",
    "parse_date",
    "record_contract",
    "schedule_check",
    "standing",
    "suspended",
]

NOTE_MAX: Final = 500
"""The longest evidence note, in characters (a document reference, not personal data)."""

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")  # what may be echoed from the input
_NOTE_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Control characters, line breaks and bidirectional overrides: a note is one plain line."""


class CheckResult(StrEnum):
    """The result of a supervision check. The codes are stored and shown."""

    passed = "passed"
    """The contractor handles the data as the contract asks."""
    issues_found = "issues_found"
    """Issues to fix were found; the entrustment goes on while they are fixed."""
    failed = "failed"
    """The contractor does not handle the data safely: the entrustment is suspended."""


class Standing(StrEnum):
    """A contractor's standing in the register on a day (see the module's documentation)."""

    no_contract = "no_contract"
    in_force = "in_force"
    not_started = "not_started"
    ended = "ended"
    check_failed = "check_failed"

    @property
    def suspended(self) -> bool:
        return self in (Standing.not_started, Standing.ended, Standing.check_failed)


def in_force(contract: ContractRow, today: dt.date) -> bool:
    """Whether ``contract`` is in force on ``today``."""
    return (
        contract.ended_at is None
        and contract.starts_on <= today
        and (contract.ends_on is None or today <= contract.ends_on)
    )


def contract_status(contract: ContractRow, today: dt.date) -> str:
    """``in_force``, ``not_started``, ``expired`` (its term is over) or ``terminated``."""
    if contract.ended_at is not None:
        return "terminated"
    if contract.starts_on > today:
        return "not_started"
    if contract.ends_on is not None and contract.ends_on < today:
        return "expired"
    return "in_force"


def standing(
    contracts: Sequence[ContractRow], last_done: CheckRow | None, today: dt.date
) -> Standing:
    """The standing of a contractor with ``contracts`` whose check done last is ``last_done``."""
    if last_done is not None and last_done.result == CheckResult.failed:
        return Standing.check_failed
    if not contracts:
        return Standing.no_contract
    if any(in_force(c, today) for c in contracts):
        return Standing.in_force
    if all(c.ended_at is None and c.starts_on > today for c in contracts):
        return Standing.not_started
    return Standing.ended


def suspended(conn: Connection, recipient_id: str, today: dt.date) -> bool:
    """Whether the entrustment to ``recipient_id`` is suspended on ``today`` (two indexed
    reads): what the provision gate and a contractor's key ask."""
    contracts = storage.contracts_of(conn, [recipient_id])[recipient_id]
    return standing(contracts, storage.latest_completed(conn, recipient_id), today).suspended


@dataclass(frozen=True)
class Contractor:
    """A contractor as the policy declares it, with what the register holds of it."""

    recipient: Recipient
    contracts: tuple[ContractRow, ...]
    """Latest-starting first."""
    checks: tuple[CheckRow, ...]
    """Latest due first."""
    today: dt.date

    @property
    def id(self) -> str:
        return self.recipient.id

    @property
    def current(self) -> ContractRow | None:
        """The contract in force today, else the latest-starting one (None: none on file)."""
        for contract in self.contracts:
            if in_force(contract, self.today):
                return contract
        return self.contracts[0] if self.contracts else None

    @property
    def last_done(self) -> CheckRow | None:
        done = [c for c in self.checks if c.done_on is not None]
        return max(done, key=lambda c: (c.done_on, c.completed_at), default=None)

    @property
    def standing(self) -> Standing:
        return standing(self.contracts, self.last_done, self.today)

    @property
    def open_checks(self) -> tuple[CheckRow, ...]:
        """Checks not done yet, the earliest due first."""
        return tuple(sorted((c for c in self.checks if c.done_on is None), key=lambda c: c.due_on))

    @property
    def next_due(self) -> CheckRow | None:
        found = self.open_checks
        return found[0] if found else None

    @property
    def overdue(self) -> tuple[CheckRow, ...]:
        """Open checks whose due day has passed (due yesterday or before)."""
        return tuple(c for c in self.open_checks if c.due_on < self.today)

    def status(self, contract: ContractRow) -> str:
        return contract_status(contract, self.today)


# -- reading ---------------------------------------------------------------------------------


def _today(vault: Vault) -> dt.date:
    return local_date(vault.clock.now(), vault.time_zone)


def _declared(rules: Rules) -> list[Recipient]:
    return [r for r in rules.recipients.values() if r.relationship is Relationship.contractor]


def _recipient(rules: Rules, recipient_id: str) -> Recipient:
    found = rules.contractor(recipient_id)
    if found is None:
        known = [r.id for r in _declared(rules)]
        shown = f"'{recipient_id}'" if _ID.fullmatch(recipient_id) else "(not an id)"
        hint = nearest(recipient_id, known) if _ID.fullmatch(recipient_id) else ""
        raise ContractorNotFound(
            f"no contractor {shown} in the published policy{hint}"
            f" (its contractors: {', '.join(known) or 'none'})"
        )
    return found


def contractors(vault: Vault) -> list[Contractor]:
    """Every contractor the published policy declares, in its order, with its register."""
    rules = vault.rules()
    declared = _declared(rules)
    ids = [r.id for r in declared]
    today = _today(vault)
    with db.read(vault.engine) as conn:
        contracts = storage.contracts_of(conn, ids)
        checks = storage.checks_of(conn, ids)
    return [Contractor(r, tuple(contracts[r.id]), tuple(checks[r.id]), today) for r in declared]


def contractor(vault: Vault, recipient_id: str) -> Contractor:
    """One contractor of the published policy; :class:`ContractorNotFound` otherwise."""
    recipient = _recipient(vault.rules(), recipient_id)
    with db.read(vault.engine) as conn:
        contracts = storage.contracts_of(conn, [recipient.id])[recipient.id]
        checks = storage.checks_of(conn, [recipient.id])[recipient.id]
    return Contractor(recipient, tuple(contracts), tuple(checks), _today(vault))


def attention(conn: Connection, rules: Rules, today: dt.date) -> tuple[int, int]:
    """(open checks overdue, contractors without a contract on file) of the policy's
    contractors: what the dashboard's card counts."""
    ids = [r.id for r in _declared(rules)]
    overdue = storage.count_overdue(conn, ids, today)
    return overdue, len(set(ids) - storage.with_contracts(conn, ids))


# -- input -----------------------------------------------------------------------------------


def parse_date(field: str, value: str | dt.date | None, *, required: bool = True) -> dt.date | None:
    """A calendar day given as ``YYYY-MM-DD`` (or a date); :class:`UserInputError` naming
    ``field`` otherwise (the input is never echoed)."""
    if isinstance(value, dt.date):
        return value
    text = (value or "").strip()
    if not text:
        if required:
            raise ContractorEntryInvalid(
                f"{field}: give a date (YYYY-MM-DD)", field=field, problem="missing"
            )
        return None
    if not _DATE.fullmatch(text):
        raise ContractorEntryInvalid(
            f"{field}: not a date: give it as YYYY-MM-DD", field=field, problem="not_a_date"
        )
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ContractorEntryInvalid(
            f"{field}: no such day: give it as YYYY-MM-DD", field=field, problem="not_a_date"
        ) from None


def _note(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > NOTE_MAX:
        raise ContractorEntryInvalid(
            f"note: longer than {NOTE_MAX} characters: give a reference",
            field="note",
            problem="too_long",
        )
    if _NOTE_BAD.search(text):
        raise ContractorEntryInvalid(
            "note: control characters, line breaks or direction overrides: write one plain line",
            field="note",
            problem="not_plain",
        )
    return text


def _items(recipient: Recipient, items: Iterable[str]) -> tuple[str, ...]:
    wanted = list(dict.fromkeys(i.strip() for i in items if i.strip()))
    if not wanted:
        raise ContractorEntryInvalid(
            "items: choose at least one item entrusted", field="items", problem="missing"
        )
    for item in wanted:
        if item not in recipient.items:
            shown = f"'{item}'" if _ID.fullmatch(item) else "(not an id)"
            raise ContractorEntryInvalid(
                f"items: {shown} is not declared for contractor '{recipient.id}' in the"
                f" policy (it may receive {', '.join(recipient.items)})",
                field="items",
                problem="not_declared",
            )
    return tuple(i for i in recipient.items if i in wanted)  # in the policy's order


def _required(field: str, value: str | dt.date | None) -> dt.date:
    found = parse_date(field, value)
    assert found is not None
    return found


# -- changes ---------------------------------------------------------------------------------


def record_contract(
    vault: Vault,
    *,
    actor: str,
    recipient_id: str,
    signed_on: str | dt.date | None,
    starts_on: str | dt.date | None,
    ends_on: str | dt.date | None = None,
    items: Iterable[str] = (),
    note: str | None = None,
) -> ContractRow:
    """Put a contract with contractor ``recipient_id`` on file; audited as
    ``contractor.contract_record``. :class:`UserInputError` for a date missing or not a date,
    a contract signed after today, an end before the start, an item the policy does not let
    the contractor receive, or a note too long or not one plain line
    (:class:`ContractorEntryInvalid`, naming the field and the problem)."""
    rules = vault.rules()
    recipient = _recipient(rules, recipient_id)
    signed = _required("signed_on", signed_on)
    starts = _required("starts_on", starts_on)
    ends = parse_date("ends_on", ends_on, required=False)
    today = _today(vault)
    if signed > today:
        raise ContractorEntryInvalid(
            "signed_on: the day is in the future: give the day it was signed",
            field="signed_on",
            problem="future",
        )
    if ends is not None and ends < starts:
        raise ContractorEntryInvalid(
            "ends_on: the contract ends before it starts (starts_on)",
            field="ends_on",
            problem="before_start",
        )
    row = ContractRow(
        id=f"cc_{secrets.token_hex(12)}",
        recipient_id=recipient.id,
        signed_on=signed,
        starts_on=starts,
        ends_on=ends,
        items=_items(recipient, items),
        note=_note(note),
        policy_version=rules.version,
        actor=actor,
        created_at=vault.clock.now(),
    )
    with db.write(vault.engine) as conn:
        storage.insert_contract(conn, row)
        vault.audit.append(
            conn,
            actor=actor,
            action="contractor.contract_record",
            targets=[f"recipient:{recipient.id}", f"contract:{row.id}"],
            details={
                "signed_on": signed.isoformat(),
                "starts_on": starts.isoformat(),
                "ends_on": ends.isoformat() if ends else None,
                "items": len(row.items),
                "note": row.note is not None,
                "policy_version": rules.version,
            },
        )
    return row


def end_contract(vault: Vault, *, actor: str, recipient_id: str, contract_id: str) -> ContractRow:
    """End a contract now, before its term (or one without a term); audited as
    ``contractor.contract_end``. :class:`NotFound` for an unknown contract,
    :class:`Conflict` for one ended before."""
    recipient = _recipient(vault.rules(), recipient_id)
    with db.write(vault.engine) as conn:
        ended = storage.end_contract(
            conn, recipient.id, contract_id, at=vault.clock.now(), by=actor
        )
        if ended is None:
            held = {c.id for c in storage.contracts_of(conn, [recipient.id])[recipient.id]}
            if contract_id in held:
                raise Conflict(f"contract '{contract_id}' was ended before: nothing more to do")
            raise NotFound(f"no contract {_shown(contract_id)} with '{recipient.id}'")
        vault.audit.append(
            conn,
            actor=actor,
            action="contractor.contract_end",
            targets=[f"recipient:{recipient.id}", f"contract:{ended.id}"],
        )
    return ended


def schedule_check(
    vault: Vault, *, actor: str, recipient_id: str, due_on: str | dt.date | None
) -> CheckRow:
    """Schedule a supervision check of contractor ``recipient_id`` due on ``due_on``; audited
    as ``contractor.check_schedule``."""
    recipient = _recipient(vault.rules(), recipient_id)
    due = _required("due_on", due_on)
    today = _today(vault)
    with db.write(vault.engine) as conn:
        contracts = storage.contracts_of(conn, [recipient.id])[recipient.id]
        current = next((c for c in contracts if in_force(c, today)), None)
        row = CheckRow(
            id=f"ck_{secrets.token_hex(12)}",
            recipient_id=recipient.id,
            contract_id=current.id if current is not None else None,
            due_on=due,
            done_on=None,
            result=None,
            note=None,
            actor=actor,
            created_at=vault.clock.now(),
        )
        storage.insert_check(conn, row)
        vault.audit.append(
            conn,
            actor=actor,
            action="contractor.check_schedule",
            targets=[f"recipient:{recipient.id}", f"check:{row.id}"],
            details={"due_on": due.isoformat(), "contract": row.contract_id},
        )
    return row


def complete_check(
    vault: Vault,
    *,
    actor: str,
    recipient_id: str,
    check_id: str,
    done_on: str | dt.date | None,
    result: str,
    note: str | None = None,
) -> CheckRow:
    """Record a check's result (``passed``, ``issues_found``, ``failed``), the day it was done
    and its evidence; audited as ``contractor.check_complete``. :class:`Conflict` when it was
    completed before (of many completing one check at once, exactly one succeeds)."""
    recipient = _recipient(vault.rules(), recipient_id)
    done = _required("done_on", done_on)
    try:
        outcome = CheckResult(result)
    except ValueError:
        known = ", ".join(r.value for r in CheckResult)
        raise ContractorEntryInvalid(
            f"result: choose one of {known}", field="result", problem="unknown"
        ) from None
    if done > _today(vault):
        raise ContractorEntryInvalid(
            "done_on: the day is in the future: give the day it was done",
            field="done_on",
            problem="future",
        )
    text = _note(note)
    with db.write(vault.engine) as conn:
        completed = storage.complete_check(
            conn,
            recipient.id,
            check_id,
            done_on=done,
            result=outcome.value,
            note=text,
            at=vault.clock.now(),
            by=actor,
        )
        if completed is None:
            held = {c.id for c in storage.checks_of(conn, [recipient.id])[recipient.id]}
            if check_id in held:
                raise Conflict(f"check '{check_id}' was completed before: nothing more to do")
            raise NotFound(f"no check {_shown(check_id)} of '{recipient.id}'")
        vault.audit.append(
            conn,
            actor=actor,
            action="contractor.check_complete",
            targets=[f"recipient:{recipient.id}", f"check:{completed.id}"],
            details={
                "done_on": done.isoformat(),
                "result": outcome.value,
                "note": text is not None,
            },
        )
    return completed


def _shown(value: str) -> str:
    return f"'{value}'" if re.fullmatch(r"c[ck]_[0-9a-f]{24}", value) else "(not an id)"
