"""Audit entries: what they may hold, their canonical bytes and their hashes. Pure, no I/O.

An entry records who (``actor``) did what (``action``) to which objects (``targets``), with a
few ``details``. It must never hold personal data, and that is enforced by construction rather
than by review: the actor, every target, every detail key and every string value must be an
*identifier* -- ASCII letters, digits and ``_ . : / - #``, at most 128 characters (keys: 64).
E-mail addresses (``@``), names in any script, phone numbers written with ``+`` or spaces,
free text: all are refused with :class:`~mamori.errors.AuditEntryError`, whose message names
the offending field but never repeats its value. Integers, booleans and nulls are allowed as
detail values; floats are not (their text form differs between languages, which would make the
canonical bytes ambiguous). What the pattern cannot catch is an identifier that *is* personal
data, such as a bare telephone number or My Number written as digits only: callers record
internal IDs (``subject:8f3a``), never values.

Canonical bytes: the compact JSON object, keys sorted, UTF-8, of
``{"action", "actor", "details", "seq", "targets", "ts"}`` -- exactly what
``json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()`` gives -- so that anyone
can recompute the hashes from the stored fields. ``entry_hash = SHA-256(prev_hash || canonical)``
with ``prev_hash`` of entry 1 being 32 zero bytes; the Merkle leaf is
``SHA-256(0x00 || canonical)`` (RFC 6962).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, NamedTuple

import orjson

from mamori.errors import AuditEntryError

__all__ = [
    "ACTION_PATTERN",
    "GENESIS",
    "ID_PATTERN",
    "KEY_PATTERN",
    "AuditEntry",
    "Checked",
    "Details",
    "NewEntry",
    "Prepared",
    "Scalar",
    "canonical",
    "chain_hash",
    "check",
    "decode_fields",
    "encode_fields",
    "format_ts",
    "parse_ts",
    "prepare",
]

Scalar = str | int | bool | None
Details = Mapping[str, Scalar]

GENESIS: Final = bytes(32)
"""The ``prev_hash`` of entry 1."""

ID_PATTERN: Final = r"[A-Za-z0-9_.:/#-]{1,128}"
"""What the actor, a target and a string detail value may be (the whole string)."""
KEY_PATTERN: Final = r"[A-Za-z_][A-Za-z0-9_.:/#-]{0,63}"
"""What a detail key may be."""
ACTION_PATTERN: Final = r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+"
"""A dotted action such as ``policy.publish``, at most 64 characters."""

MAX_TARGETS: Final = 32
MAX_DETAILS: Final = 256
"""A vault call or a provision names up to 200 items, and its entry says per item what was
done (released, refused with its reason, written)."""
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1

_ID = re.compile(ID_PATTERN)
_KEY = re.compile(KEY_PATTERN)
# The fast check of a whole entry: "action TAB actor TAB targets-JSON TAB details-JSON". The
# ID character class excludes the quote, backslash, TAB and every non-ASCII character, so the
# JSON texts can only match when no string needed escaping; integers of up to 18 digits fit in
# 64 bits (longer ones take the slow path, which checks the exact range).
_VALUE = f'(?:"{ID_PATTERN}"|-?[0-9]{{1,18}}|true|false|null)'
_FAST = re.compile(
    f"{ACTION_PATTERN}\t{ID_PATTERN}\t"
    f'\\[(?:"{ID_PATTERN}"(?:,"{ID_PATTERN}")*)?\\]\t'
    f'\\{{(?:"{KEY_PATTERN}":{_VALUE}(?:,"{KEY_PATTERN}":{_VALUE})*)?\\}}'
)
_ACTION = re.compile(ACTION_PATTERN)
_SORT = orjson.OPT_SORT_KEYS
_RULE = "only ASCII letters, digits and _ . : / - # are allowed, at most 128 characters"


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry to append: see :meth:`mamori.audit.AuditLog.append_many`."""

    actor: str
    action: str
    targets: Iterable[str] = ()
    details: Details = field(default_factory=dict)


class AuditEntry(NamedTuple):
    """One entry of the audit log, as stored. Immutable.

    A named tuple rather than a frozen dataclass: the log creates one per appended entry, and a
    named tuple costs a third as much to create.
    """

    seq: int
    ts: dt.datetime
    actor: str
    action: str
    targets: tuple[str, ...]
    details: Mapping[str, Scalar]
    prev_hash: bytes
    entry_hash: bytes

    def canonical(self) -> bytes:
        """The canonical bytes that ``entry_hash`` and the Merkle leaf are computed from."""
        return canonical(
            self.seq,
            format_ts(self.ts),
            self.actor,
            self.action,
            orjson.dumps(list(self.targets)).decode(),
            orjson.dumps(dict(self.details), option=_SORT).decode(),
        )

    @property
    def ts_text(self) -> str:
        """``ts`` as stored and hashed (RFC 3339, UTC, microseconds)."""
        return format_ts(self.ts)

    @property
    def leaf_hash(self) -> bytes:
        """The RFC 6962 Merkle leaf hash of this entry."""
        return hashlib.sha256(b"\x00" + self.canonical()).digest()

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form, hashes in hex."""
        return {
            "seq": self.seq,
            "ts": format_ts(self.ts),
            "actor": self.actor,
            "action": self.action,
            "targets": list(self.targets),
            "details": dict(self.details),
            "prev_hash": self.prev_hash.hex(),
            "entry_hash": self.entry_hash.hex(),
        }


def format_ts(ts: dt.datetime) -> str:
    """RFC 3339 in UTC with exactly six fractional digits: ``2025-04-01T09:30:00.000000Z``."""
    if ts.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return ts.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_ts(text: str) -> dt.datetime:
    """The inverse of :func:`format_ts`."""
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


Checked = tuple[str, str, tuple[str, ...], dict[str, Scalar]]
Prepared = tuple[str, str, tuple[str, ...], dict[str, Scalar], str, str]


def check(actor: str, action: str, targets: Iterable[str], details: Details) -> Checked:
    """Validate the fields of a new entry; raise :class:`AuditEntryError` naming the bad one.

    Returns the targets as a tuple and the details as a plain dict.
    """
    actor, action, target_tuple, checked, _targets_json, _details_json = prepare(
        actor, action, targets, details
    )
    return actor, action, target_tuple, checked


def prepare(actor: str, action: str, targets: Iterable[str], details: Details) -> Prepared:
    """:func:`check`, plus the stored JSON texts of the targets and the details."""
    # Fast path: encode first (needed anyway), then one regular expression over the action, the
    # actor and both JSON texts. JSON escapes, non-ASCII text, floats and nested values all
    # fail it; whatever fails is checked again field by field for a precise message.
    if (
        type(actor) is str
        and type(action) is str
        and type(details) is dict
        and isinstance(targets, list | tuple)
        and len(targets) <= MAX_TARGETS
        and len(details) <= MAX_DETAILS
    ):
        try:
            targets_json = orjson.dumps(targets).decode()
            details_json = orjson.dumps(details, option=_SORT).decode()
        except TypeError:  # not serialisable, or a key that is not a string
            pass
        else:
            if len(action) <= 64 and _FAST.fullmatch(
                f"{action}\t{actor}\t{targets_json}\t{details_json}"
            ):
                return actor, action, tuple(targets), dict(details), targets_json, details_json
    actor, action, target_tuple, checked = _check_each(actor, action, targets, details)
    return actor, action, target_tuple, checked, *encode_fields(target_tuple, checked)


def _check_each(actor: str, action: str, targets: Iterable[str], details: Details) -> Checked:
    """Check field by field, to name the first bad one (and normalise str/int subclasses)."""
    if not isinstance(actor, str) or not _ID.fullmatch(actor):
        raise AuditEntryError(f"audit actor is not an ID: {_RULE} (for example staff:7)")
    actor = str(actor)
    if not isinstance(action, str) or len(action) > 64 or not _ACTION.fullmatch(action):
        raise AuditEntryError(
            "audit action must be dotted lower-case words such as policy.publish (at most 64 "
            "characters)"
        )
    action = str(action)
    if isinstance(targets, str):
        raise AuditEntryError("audit targets must be a list of IDs, not one string")
    target_tuple = tuple(str(t) if isinstance(t, str) else t for t in targets)
    if len(target_tuple) > MAX_TARGETS:
        raise AuditEntryError(f"an audit entry has at most {MAX_TARGETS} targets")
    for position, target in enumerate(target_tuple):
        if not isinstance(target, str) or not _ID.fullmatch(target):
            raise AuditEntryError(f"audit target #{position + 1} is not an ID: {_RULE}")
    if not isinstance(details, Mapping):
        raise AuditEntryError("audit details must be a mapping of keys to values")
    if len(details) > MAX_DETAILS:
        raise AuditEntryError(f"an audit entry has at most {MAX_DETAILS} details")
    checked: dict[str, Scalar] = {}
    for position, (key, value) in enumerate(details.items()):
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise AuditEntryError(
                f"audit detail key #{position + 1} is not an identifier: start with a letter or _, "
                "then letters, digits and _ . : / - #, at most 64 characters"
            )
        if isinstance(value, str):
            value = str(value)  # a StrEnum member becomes its plain value
            if not _ID.fullmatch(value):
                raise AuditEntryError(
                    f"audit detail {key!r} is not an ID or code: {_RULE}; audit entries must "
                    "never hold personal data or free text"
                )
        elif isinstance(value, bool):
            value = bool(value)
        elif isinstance(value, int):
            value = int(value)  # an IntEnum member becomes its plain value
            if not _INT_MIN <= value <= _INT_MAX:
                raise AuditEntryError(f"audit detail {key!r} does not fit in 64 bits")
        elif value is not None:
            raise AuditEntryError(
                f"audit detail {key!r} must be a string ID, an integer, a boolean or null "
                f"(not {type(value).__name__})"
            )
        checked[key] = value
    return actor, action, target_tuple, checked


def canonical(seq: int, ts: str, actor: str, action: str, targets: str, details: str) -> bytes:
    """The canonical bytes of an entry from its stored text fields.

    ``targets`` and ``details`` are the stored JSON texts (``orjson`` output, keys sorted).
    For fields that passed :func:`check` this is byte for byte the sorted, compact JSON of the
    whole entry: none of the strings needs escaping, so plain formatting (fast, and what
    :func:`~mamori.audit.verify.Verifier` uses on every stored row) and a JSON encoder agree.
    A test holds the two together.
    """
    return (
        f'{{"action":"{action}","actor":"{actor}","details":{details},"seq":{seq},'
        f'"targets":{targets},"ts":"{ts}"}}'
    ).encode()


def chain_hash(prev_hash: bytes, canonical_bytes: bytes) -> bytes:
    """``SHA-256(prev_hash || canonical)``."""
    return hashlib.sha256(prev_hash + canonical_bytes).digest()


def encode_fields(targets: tuple[str, ...], details: Mapping[str, Scalar]) -> tuple[str, str]:
    """The stored JSON texts of checked targets and details."""
    return orjson.dumps(list(targets)).decode(), orjson.dumps(dict(details), option=_SORT).decode()


def decode_fields(targets: str, details: str) -> tuple[tuple[str, ...], dict[str, Scalar]]:
    """The inverse of :func:`encode_fields`."""
    return tuple(orjson.loads(targets)), orjson.loads(details)
