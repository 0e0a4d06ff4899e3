"""The OpenAPI document (``/openapi.json``): every answer a route gives, and the policy's ids.

Two things FastAPI cannot know on its own:

- **The errors.** A route declares the statuses it may answer besides its success with
  :func:`errors`; each is documented with the one error body every surface sends
  (:class:`~mamori.web.api.schemas.ErrorOut`, from :mod:`mamori.web.errors`). 422 is among
  them wherever a route takes parameters, with that body too, not FastAPI's default.
- **The policy's enumerations.** Which purposes, items and subject types exist is decided by
  the published policy, not the code. A schema marked ``x-policy: <what>`` (with
  :func:`policy_ids`) is filled in from the current version when the document is served:
  ``enum`` for ids, a ``pattern`` for comma-separated item lists, ``properties`` for item
  values. The document is rebuilt once per published version.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

from fastapi import FastAPI

from mamori.errors import PolicyNotPublished
from mamori.policy.model import DataItem, ValueKind
from mamori.policy.rules import Rules
from mamori.vault.normalize import ADDRESS_FIELDS, DOCUMENT_TYPES, MAX_TEXT_CHARS, MAX_URL_CHARS
from mamori.web.api.schemas import ErrorOut

__all__ = ["MEANINGS", "PolicyIds", "errors", "install", "policy_ids"]

PolicyIds = Literal[
    "purposes",
    "items",
    "indexed-items",
    "item-list",
    "item-values",
    "item-changes",
    "subject-types",
    "recipients",
]
"""What an ``x-policy`` marker stands for: the ids of the policy's purposes, its items
(without the events item, which has its own endpoint), the items found by value, a
comma-separated list of items, an object of item values by id (``item-changes``: a value or
``null``, which deletes the item), subject types, or recipients."""

MEANINGS: Final[Mapping[int, str]] = {
    400: "The request is understood but refused; the message names the field and the problem.",
    401: "No valid API key: missing, malformed, unknown, expired or revoked.",
    403: "The key may not do this: an operation or purpose it does not hold.",
    404: "No such person, request or policy version.",
    409: "The person has withdrawn, or the state does not allow this now.",
    413: "The body, or a value in it, is larger than the limit the message names.",
    422: "A parameter or the body does not match this document.",
    429: "Too many attempts; the message says when to try again.",
    503: "The database is unavailable or busy; retry shortly.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that may answer ``statuses`` besides its success."""
    return {
        status: {"model": ErrorOut, "description": MEANINGS[status]} for status in sorted(statuses)
    }


def policy_ids(what: PolicyIds) -> dict[str, Any]:
    """``json_schema_extra=`` marking a schema to fill in from the published policy."""
    return {"x-policy": what}


_ID_RE: Final = r"[a-z][a-z0-9_]{0,62}"
_STATIC: Final[Mapping[str, Mapping[str, Any]]] = {
    # Without a published policy the markers keep the shape of an id.
    "purposes": {"pattern": f"^{_ID_RE}$"},
    "items": {"pattern": f"^{_ID_RE}$"},
    "indexed-items": {"pattern": f"^{_ID_RE}$"},
    "subject-types": {"pattern": f"^{_ID_RE}$"},
    "recipients": {"pattern": f"^{_ID_RE}$"},
    "item-list": {"pattern": f"^{_ID_RE}(,{_ID_RE})*$"},
    "item-values": {"propertyNames": {"pattern": f"^{_ID_RE}$"}},
    "item-changes": {"propertyNames": {"pattern": f"^{_ID_RE}$"}},
}


def _value_schema(kind: ValueKind, description: str) -> dict[str, Any]:
    """What a value of ``kind`` looks like (mamori.vault.normalize decides; this guides)."""
    string: dict[str, Any] = {"type": "string", "minLength": 1}
    schema: dict[str, Any]
    match kind:
        case ValueKind.email:
            schema = {**string, "pattern": r"^[^@\s]+@[^@\s]+$", "maxLength": 254}
        case ValueKind.phone:
            schema = {**string, "pattern": r"^\+?[0-9][0-9 ()\-.]{5,24}$"}
        case ValueKind.postal_code:
            schema = {**string, "pattern": r"^〒?[0-9]{3}-?[0-9]{4}$"}
        case ValueKind.date:
            schema = {**string, "format": "date"}
        case ValueKind.ip_address:
            schema = {"anyOf": [{**string, "format": "ipv4"}, {**string, "format": "ipv6"}]}
        case ValueKind.device_id:
            schema = {**string, "maxLength": 256, "pattern": r"^\S+$"}
        case ValueKind.address:
            parts = {name: dict(string) for name in ADDRESS_FIELDS}
            schema = {
                "anyOf": [
                    string,
                    {"type": "object", "properties": parts, "additionalProperties": False},
                ]
            }
        case ValueKind.document:
            schema = {
                "type": "object",
                "required": ["content_type", "data"],
                "properties": {
                    "content_type": {"enum": sorted(DOCUMENT_TYPES)},
                    "data": {**string, "contentEncoding": "base64"},
                },
                "additionalProperties": False,
            }
        case ValueKind.external_id:
            schema = {
                "type": "object",
                "required": ["service", "id"],
                "properties": {
                    "service": {**string, "pattern": r"^[a-z0-9][a-z0-9_.\-]{0,63}$"},
                    "id": {**string, "maxLength": 256},
                    "scopes": {"type": "array", "items": string},
                },
                "additionalProperties": False,
            }
        case ValueKind.json:
            schema = {}
        case ValueKind.url:
            schema = {
                **string,
                "format": "uri",
                "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://",
                "maxLength": MAX_URL_CHARS,
            }
        case ValueKind.text:
            schema = {**string, "maxLength": MAX_TEXT_CHARS}
        case _:  # name
            schema = dict(string)
    return {**schema, "description": description}


def _item_schema(item: DataItem) -> dict[str, Any]:
    """A value of the item: of its kind, or, for an item of several, ``{kind, value}``."""
    label = f"{item.label.en} ({item.label.ja})"
    if not item.several_kinds:
        return _value_schema(item.kind, f"{label}; kind {item.kind.value}")
    kinds = ", ".join(k.value for k in item.value_kinds)
    return {
        "oneOf": [
            {
                "type": "object",
                "required": ["kind", "value"],
                "properties": {
                    "kind": {"const": k.value},
                    "value": _value_schema(k, f"a value of kind {k.value}"),
                },
                "additionalProperties": False,
            }
            for k in item.value_kinds
        ],
        "description": f"{label}; one of the kinds {kinds}, sent as {{kind, value}}",
    }


def _csv_pattern(ids: list[str]) -> str:
    one = "|".join(re.escape(i) for i in ids)
    return f"^({one})(,({one}))*$"


def _filled(rules: Rules) -> dict[str, dict[str, Any]]:
    stored = [i for i in rules.items.values() if i.kind is not ValueKind.events]
    item_ids = [i.id for i in stored]
    values = {i.id: _item_schema(i) for i in stored}
    return {
        "purposes": {"enum": list(rules.purposes)},
        "items": {"enum": item_ids},
        "indexed-items": {"enum": [i for i in item_ids if rules.indexed(i)]},
        "subject-types": {"enum": list(rules.subject_types)},
        "recipients": {"enum": list(rules.recipients)}
        if rules.recipients
        else {"pattern": f"^{_ID_RE}$"},
        "item-list": {"pattern": _csv_pattern(item_ids)},
        "item-values": {"properties": values, "additionalProperties": False},
        "item-changes": {
            "properties": {
                k: {"anyOf": [v, {"type": "null", "description": "Deletes the item."}]}
                for k, v in values.items()
            },
            "additionalProperties": False,
        },
    }


def _fill(node: Any, fills: Mapping[str, Mapping[str, Any]]) -> None:
    """Replace every ``x-policy`` marker under ``node`` with what it stands for, in place."""
    if isinstance(node, dict):
        what = node.pop("x-policy", None)
        if what is not None:
            node.pop("pattern", None)
            node.update(copy.deepcopy(dict(fills[what])))
        for value in node.values():
            _fill(value, fills)
    elif isinstance(node, list):
        for value in node:
            _fill(value, fills)


def install(app: FastAPI) -> None:
    """Serve the document with the current policy's ids filled in, rebuilt per version."""
    generate: Callable[[], dict[str, Any]] = app.openapi  # FastAPI's, cached on the app
    lock = threading.Lock()
    built: dict[int, dict[str, Any]] = {}

    def openapi() -> dict[str, Any]:
        try:
            rules = app.state.runtime.published.current().rules
        except PolicyNotPublished:
            rules = None
        version = rules.version if rules is not None else 0
        document = built.get(version)
        if document is None:
            with lock:
                document = copy.deepcopy(generate())
                _fill(document, _filled(rules) if rules is not None else _STATIC)
                built.clear()  # only the current version is served
                built[version] = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
