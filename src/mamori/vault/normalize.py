"""Validating and normalising item values before they are encrypted, and their index forms.

:func:`normalise` checks a value against its item's :class:`~mamori.policy.model.ValueKind` and
returns the form that is stored (always a JSON value). It is idempotent: normalising a stored
value gives it back unchanged. :func:`index_form` gives the text a blind index is computed from
(see :mod:`mamori.vault.blind_index`), so that writings of the same value that people consider
equal find each other: e-mail addresses in any case, telephone numbers written nationally or
internationally, text in full-width or half-width characters.

A refused value raises :class:`~mamori.errors.InvalidValue` (or, for a document over the size
limit, :class:`~mamori.errors.ValueTooLarge`) whose message names the item and the problem but
never the value.

| kind | accepted | stored | index form |
|---|---|---|---|
| email | ``local@domain`` after NFKC | as given, NFKC, trimmed | lower-cased |
| phone | national or +international, full-width digits | E.164 (``+819012345678``) | E.164 |
| text | a string, at most 20,000 characters | NFC, trimmed, LF line ends | NFKC, folded |
| name | a string | as given, trimmed | NFKC, case-folded, spaces collapsed |
| url | ``http(s)://host...``, 2,048 characters, no user:password@ | scheme, host lower-cased | |
| address | a string, or postal_code/prefecture/city/line1/line2 | trimmed parts | as text |
| postal_code | ``NNN-NNNN``, ``〒``, full-width | ``NNN-NNNN`` | the same |
| date | ``YYYY-MM-DD`` | ISO date | the same |
| document | ``{content_type, data (base64)}``: JPEG, PNG, PDF | canonical base64 | none |
| external_id | ``{service, id, scopes}`` | service lower-cased, scopes sorted | ``service:id`` |
| device_id | an opaque ID; UUIDs in any case | UUIDs lower-cased | the same |
| ip_address | IPv4 or IPv6 | compressed form | the same |
| json | any JSON value | the same | none |
| events | never a stored value | | |

An item that allows several kinds (``kinds: [text, url, document]``) stores each value with its
kind: it is written and read as ``{"kind": "url", "value": "https://..."}``, the value checked as
that kind (:func:`normalise_item`); :func:`kind_of` tells the kind of a stored value and gives
it as it is read back.

E-mail addresses: the local part is ASCII (RFC 5322 atext and dots; no quoted local parts), and
consecutive dots or a dot before ``@`` are accepted because Japanese mobile carriers issued such
addresses for years; the domain may be internationalised. Telephone numbers: only digits, spaces,
hyphens (any dash, ``ー`` included), brackets, dots and a leading ``+``; anything else (letters,
``Tel:``, extensions) is refused rather than guessed at.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import ipaddress
import math
import re
import unicodedata
import urllib.parse
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Final

import phonenumbers

from mamori.errors import InvalidValue, ValueTooLarge
from mamori.policy.model import ValueKind

__all__ = [
    "ADDRESS_FIELDS",
    "DEFAULT_MAX_DOCUMENT_BYTES",
    "DOCUMENT_TYPES",
    "MAX_TEXT_CHARS",
    "MAX_URL_CHARS",
    "index_form",
    "kind_of",
    "normalise",
    "normalise_item",
]

DEFAULT_MAX_DOCUMENT_BYTES: Final = 5 * 1024 * 1024
ADDRESS_FIELDS: Final = ("postal_code", "prefecture", "city", "line1", "line2")
DOCUMENT_TYPES: Final = {
    "image/jpeg": (b"\xff\xd8\xff", "a JPEG image"),
    "image/png": (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    "application/pdf": (b"%PDF-", "a PDF document"),
}
"""Allowed content types of documents, each with the bytes its data must start with."""

_NOT_IN_URLS: Final = frozenset('<>"`{}|\\')
"""Characters RFC 3986 leaves out of URLs (browsers percent-encode them)."""
MAX_TEXT_CHARS: Final = 20_000
MAX_URL_CHARS: Final = 2048
_MAX_EMAIL: Final = 254
_MAX_LOCAL: Final = 64
_MAX_ID: Final = 256
_MAX_JSON_DEPTH: Final = 64
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1

# Local part: RFC 5322 atext and dots, at least one atext (see the module's docs).
_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\-"
_LOCAL = re.compile(f"[{_ATEXT}.]*[{_ATEXT}][{_ATEXT}.]*")
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−ーｰ", "-"))
_PHONE_CHARS = re.compile(r"[0-9+\-().\s/]+")
_POSTAL = re.compile(r"([0-9]{3})-?([0-9]{4})")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SERVICE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # text keeps TAB and LF
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _fold(text: str) -> str:
    """NFKC, case-folded, every run of white space one space: how text is indexed."""
    return " ".join(_nfkc(text).casefold().split())


class _Check:
    """Builds the messages for one item: ``item 'email': not a valid e-mail address``."""

    __slots__ = ("item_id",)

    def __init__(self, item_id: str) -> None:
        self.item_id = item_id

    def fail(self, problem: str) -> InvalidValue:
        return InvalidValue(f"item '{self.item_id}': {problem}")

    def string(self, value: object, what: str, *, multiline: bool = False) -> str:
        """A trimmed, non-empty string without control characters."""
        if not isinstance(value, str):
            raise self.fail(f"{what} must be a string")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise self.fail(f"{what} is not valid Unicode text") from None
        text = value.strip()
        if multiline:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if not text:
            raise self.fail(f"{what} is empty")
        if (_CONTROL if multiline else _ANY_CONTROL).search(text):
            raise self.fail(f"{what} contains control characters")
        return text

    def mapping(self, value: object, what: str, allowed: tuple[str, ...]) -> Mapping[str, object]:
        if not isinstance(value, Mapping):
            raise self.fail(f"{what} must be an object with {', '.join(allowed)}")
        unknown = sorted(str(k) for k in value if k not in allowed)
        if unknown:
            # A field name is part of the value: repeat it only if it looks like a field name.
            field = (
                f"unknown field {unknown[0]!r}"
                if _FIELD.fullmatch(unknown[0])
                else "an unknown field"
            )
            raise self.fail(f"{field} (allowed: {', '.join(allowed)})")
        return value


# -- one function per kind ---------------------------------------------------------------------


def _email(c: _Check, value: object) -> str:
    text = _nfkc(c.string(value, "an e-mail address")).strip()
    local, at, domain = text.rpartition("@")
    if (
        not at
        or len(text) > _MAX_EMAIL
        or len(local) > _MAX_LOCAL
        or not _LOCAL.fullmatch(local)
        or not _domain_ok(domain)
    ):
        raise c.fail("not a valid e-mail address")
    return text


def _domain_ok(domain: str) -> bool:
    labels = domain.split(".")
    if len(labels) < 2 or labels[-1].isdigit():
        return False
    return all(
        0 < len(label) <= 63
        and not label.startswith("-")
        and not label.endswith("-")
        and all(ch.isalnum() or ch == "-" for ch in label)
        for label in labels
    )


def _phone(c: _Check, value: object, region: str) -> str:
    text = _nfkc(c.string(value, "a telephone number")).translate(_DASHES)
    if len(text) > 40 or not _PHONE_CHARS.fullmatch(text):
        raise c.fail("not a telephone number (digits, spaces, hyphens and a leading + only)")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise c.fail("not a telephone number") from None
    if not phonenumbers.is_valid_number(number):
        raise c.fail(
            f"not a valid telephone number (numbers without +country are read as {region})"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _text(c: _Check, value: object) -> str:
    text = unicodedata.normalize("NFC", c.string(value, "the text", multiline=True))
    if len(text) > MAX_TEXT_CHARS:
        raise c.fail(f"the text has {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
    return text


def _url(c: _Check, value: object) -> str:
    text = unicodedata.normalize("NFC", c.string(value, "a URL"))
    if len(text) > MAX_URL_CHARS:
        raise c.fail(f"the URL is longer than {MAX_URL_CHARS} characters")
    if any(ch.isspace() for ch in text):
        raise c.fail("a URL cannot contain spaces")
    if any(ch in _NOT_IN_URLS for ch in text):
        raise c.fail('a URL cannot contain <, >, ", `, {, }, | or \\ (percent-encode them)')
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port  # a port out of range raises
    except ValueError:
        raise c.fail("not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise c.fail("a URL must start with http:// or https://")
    if "@" in parts.netloc:
        raise c.fail("a URL cannot hold a user name or password")
    host = (parts.hostname or "").lower()
    if not host or not (_domain_ok(host.rstrip(".")) or host in ("localhost",) or _ip_host(host)):
        raise c.fail("a URL needs a host name (such as www.youtube.com)")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    return urllib.parse.urlunsplit((scheme, netloc, parts.path, parts.query, parts.fragment))


def _ip_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _name(c: _Check, value: object) -> str:
    return c.string(value, "a name")


def _postal(c: _Check, value: object) -> str:
    text = _nfkc(c.string(value, "a postal code")).translate(_DASHES)
    text = text.removeprefix("〒").strip()
    match = _POSTAL.fullmatch(text)
    if match is None:
        raise c.fail("not a Japanese postal code (NNN-NNNN)")
    return f"{match[1]}-{match[2]}"


def _address(c: _Check, value: object) -> str | dict[str, str]:
    if isinstance(value, str):
        return c.string(value, "an address", multiline=True)
    fields = c.mapping(value, "an address", ADDRESS_FIELDS)
    out: dict[str, str] = {}
    for name in ADDRESS_FIELDS:
        part = fields.get(name)
        if part is None or (isinstance(part, str) and not part.strip()):
            continue
        out[name] = _postal(c, part) if name == "postal_code" else c.string(part, name)
    if not out:
        raise c.fail("the address is empty")
    return out


def _date(c: _Check, value: object) -> str:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    text = _nfkc(c.string(value, "a date")).translate(_DASHES)
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise c.fail("not a valid date (YYYY-MM-DD)") from None


def _document(c: _Check, value: object, max_bytes: int) -> dict[str, str]:
    fields = c.mapping(value, "a document", ("content_type", "data"))
    content_type = c.string(fields.get("content_type"), "content_type").lower()
    content_type = "image/jpeg" if content_type == "image/jpg" else content_type
    if content_type not in DOCUMENT_TYPES:
        raise c.fail(f"content_type must be one of {', '.join(sorted(DOCUMENT_TYPES))}")
    data = fields.get("data")
    if not isinstance(data, str):
        raise c.fail("data must be a string of base64")
    encoded = "".join(data.split())  # base64 wrapped over lines is common
    if len(encoded) // 4 * 3 > max_bytes + 3:  # refuse before decoding a huge string
        raise _too_large(c, len(encoded) // 4 * 3, max_bytes)
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise c.fail("data is not valid base64") from None
    if len(raw) > max_bytes:
        raise _too_large(c, len(raw), max_bytes)
    magic, label = DOCUMENT_TYPES[content_type]
    if not raw.startswith(magic):
        raise c.fail(f"data is not {label} (content_type says {content_type})")
    return {"content_type": content_type, "data": base64.b64encode(raw).decode("ascii")}


def _too_large(c: _Check, size: int, limit: int) -> ValueTooLarge:
    return ValueTooLarge(
        f"item '{c.item_id}': the document has {size} bytes; the limit is {limit} bytes "
        "(MAMORI_MAX_DOCUMENT_BYTES)"
    )


def _external_id(c: _Check, value: object) -> dict[str, object]:
    fields = c.mapping(value, "an external ID", ("service", "id", "scopes"))
    service = c.string(fields.get("service"), "service").lower()
    if not _SERVICE.fullmatch(service):
        raise c.fail("service must be a short code (letters, digits, _ . -)")
    raw_id = fields.get("id")
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)
    ext_id = c.string(raw_id, "id")
    if len(ext_id) > _MAX_ID:
        raise c.fail(f"id is longer than {_MAX_ID} characters")
    scopes = fields.get("scopes", [])
    if not isinstance(scopes, list | tuple):
        raise c.fail("scopes must be a list of strings")
    clean = sorted({c.string(s, "a scope") for s in scopes})
    return {"service": service, "id": ext_id, "scopes": clean}


def _device_id(c: _Check, value: object) -> str:
    text = c.string(value, "a device ID")
    if len(text) > _MAX_ID or any(ch.isspace() for ch in text):
        raise c.fail(f"not a device ID (no spaces, at most {_MAX_ID} characters)")
    try:
        return str(uuid.UUID(text)) if len(text) in (32, 36, 38) else text
    except ValueError:
        return text


def _ip_address(c: _Check, value: object) -> str:
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return str(value)
    text = _nfkc(c.string(value, "an IP address"))
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise c.fail("not a valid IP address (IPv4 or IPv6)") from None


def _json(c: _Check, value: object, depth: int = 0) -> object:
    if depth > _MAX_JSON_DEPTH:
        raise c.fail(f"the JSON value is nested more than {_MAX_JSON_DEPTH} levels deep")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not _INT_MIN <= value <= _INT_MAX:
            raise c.fail("an integer does not fit in 64 bits")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise c.fail("NaN and infinity are not JSON numbers")
        return value
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise c.fail("a string is not valid Unicode text") from None
        return value
    if isinstance(value, list | tuple):
        return [_json(c, v, depth + 1) for v in value]
    if isinstance(value, Mapping):
        out: dict[str, object] = {}
        for key, v in value.items():
            if not isinstance(key, str):
                raise c.fail("object keys must be strings")
            _json(c, key, depth + 1)
            out[key] = _json(c, v, depth + 1)
        return out
    raise c.fail(f"{type(value).__name__} is not a JSON value")


def _events(c: _Check, value: object) -> object:
    raise c.fail("usage events are not a stored value; add them as events")


_SIMPLE: Final[dict[ValueKind, Callable[[_Check, object], object]]] = {
    ValueKind.email: _email,
    ValueKind.text: _text,
    ValueKind.url: _url,
    ValueKind.name: _name,
    ValueKind.address: _address,
    ValueKind.postal_code: _postal,
    ValueKind.date: _date,
    ValueKind.external_id: _external_id,
    ValueKind.device_id: _device_id,
    ValueKind.ip_address: _ip_address,
    ValueKind.json: _json,
    ValueKind.events: _events,
}


def normalise(
    kind: ValueKind,
    value: object,
    *,
    item_id: str = "value",
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    region: str = "JP",
) -> object:
    """``value`` checked and in its stored form; ``item_id`` names the item in messages.

    ``region`` is the country telephone numbers without ``+`` are read in.
    """
    c = _Check(item_id)
    if kind is ValueKind.phone:
        return _phone(c, value, region)
    if kind is ValueKind.document:
        return _document(c, value, max_document_bytes)
    return _SIMPLE[kind](c, value)


def normalise_item(
    kinds: Sequence[ValueKind],
    value: object,
    *,
    item_id: str = "value",
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    region: str = "JP",
) -> object:
    """``value`` checked against an item's kinds and in its stored form: as :func:`normalise`
    for an item of one kind; ``{"kind": ..., "value": ...}`` for an item of several."""
    if len(kinds) == 1:
        return normalise(
            kinds[0], value, item_id=item_id, max_document_bytes=max_document_bytes, region=region
        )
    c = _Check(item_id)
    allowed = ", ".join(k.value for k in kinds)
    if not isinstance(value, Mapping) or set(value) != {"kind", "value"}:
        raise c.fail(
            f'holds values of several kinds ({allowed}): send {{"kind": ..., "value": ...}}'
        )
    kind = value["kind"]
    if not isinstance(kind, str) or kind not in {k.value for k in kinds}:
        shown = f"'{kind}' " if isinstance(kind, str) and _FIELD.fullmatch(kind) else ""
        raise c.fail(f"kind {shown}is not allowed: the kinds allowed are {allowed}")
    found = ValueKind(kind)
    stored = normalise(
        found, value["value"], item_id=item_id, max_document_bytes=max_document_bytes, region=region
    )
    return {"kind": found.value, "value": stored}


def kind_of(kinds: Sequence[ValueKind], stored: object) -> tuple[ValueKind, object]:
    """The kind of a stored value of an item allowing ``kinds``, and the value as it is read
    back (with its kind, for an item of several). A value stored before the item allowed
    several kinds has no kind with it: it is taken as the first kind it is valid as."""
    if len(kinds) == 1:
        return kinds[0], stored
    if isinstance(stored, Mapping) and set(stored) == {"kind", "value"}:
        kind = stored["kind"]
        if isinstance(kind, str) and kind in {k.value for k in kinds}:
            return ValueKind(kind), stored
    found = kinds[0]
    for kind in kinds:
        try:
            normalise(kind, stored, max_document_bytes=2**62)
        except InvalidValue:
            continue
        found = kind
        break
    return found, {"kind": found.value, "value": stored}


def index_form(kind: ValueKind, normalised: object) -> str | None:
    """The text a blind index of a normalised value is computed from; ``None``: not indexable."""
    if kind in (ValueKind.document, ValueKind.json, ValueKind.events):
        return None
    if kind is ValueKind.external_id:
        if not isinstance(normalised, Mapping):
            raise TypeError("an external_id value must be normalised first")
        return f"{normalised['service']}:{normalised['id']}"
    if kind is ValueKind.address and isinstance(normalised, Mapping):
        return _fold(" ".join(str(normalised[f]) for f in ADDRESS_FIELDS if f in normalised))
    if not isinstance(normalised, str):
        raise TypeError(f"a {kind.value} value must be normalised first")
    if kind is ValueKind.email:
        return _nfkc(normalised).lower()
    if kind in (ValueKind.text, ValueKind.name, ValueKind.address):
        return _fold(normalised)
    return normalised
