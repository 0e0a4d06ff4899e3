"""The disclosure package (APPI 法33): everything held about a person, as one zip.

Contents: ``package.json`` (machine-readable, everything), ``items.csv``, ``events.csv`` (every
usage event), ``events_summary.csv`` (counts per action and month), ``sections/<name>.csv`` (the
sections other parts register: consent receipts, third-party provision records, ...) and
``index.html`` (the same, readable). Items are decrypted by the dedicated internal caller
``system:disclosure``, and the read is audited (``subject.disclose``, IDs and counts only).

It streams: events are read in keyset pages and written straight into the zip, section rows
likewise (their JSON goes to a temporary file, copied into ``package.json`` at the end), and
the zip itself goes to a file-like object the caller provides (a temporary file the web layer
then streams out). Memory stays flat however many events the person has.

Other domains add a :class:`~mamori.requests.sections.Section`, listed in the built-in parts
(:mod:`mamori.app.parts`) and handed in by the context: ``rows(conn, subject_id)`` yields one
mapping per row, with values that JSON can hold (strings, numbers, booleans, None, dates). The
section ``third_party_provisions`` always appears (empty until a provision ledger gives it).
"""

from __future__ import annotations

import base64
import contextlib
import csv
import dataclasses
import datetime as dt
import io
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, cast
from urllib.parse import quote

import jinja2
import orjson

from mamori import i18n
from mamori.i18n import Lang
from mamori.requests import labels
from mamori.requests.readable import (
    DOCUMENT_TYPES,
    Document,
    Words,
    held,
    is_document,
    policy_facts,
)
from mamori.requests.sections import PROVISIONS, Section, SectionRows, ordered_sections
from mamori.store import db
from mamori.vault import crypto
from mamori.vault.events import EVENT_FIELDS
from mamori.vault.restrictions import usage_settings
from mamori.vault.storage import subjects, usage_events

if TYPE_CHECKING:
    from mamori.requests.context import RequestContext

__all__ = [
    "CALLER",
    "PROVISIONS",
    "Built",
    "Section",
    "build",
    "ordered_sections",
]

CALLER: Final = "system:disclosure"
FORMAT: Final = "mamori-disclosure/1"
EVENT_BATCH: Final = 2000
IMAGE_TYPES: Final = {ext: ct for ct, ext in DOCUMENT_TYPES.items() if ct.startswith("image/")}
"""Content type of an image file of the package, by its extension."""

_env = i18n.install(  # {{ _("package.title") }} in the package's language (the context's lang)
    jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
)


@dataclass(frozen=True)
class Built:
    items: int
    events: int
    section_rows: Mapping[str, int]

    @property
    def empty(self) -> bool:
        return not self.items and not self.events and not any(self.section_rows.values())


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, frozenset, set)):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _cell(value: object) -> str:
    if isinstance(value, str):
        return value  # most cells: already the words people read
    if value is None:
        return ""
    plain = _plain(value)
    if isinstance(plain, str):
        return plain  # dates as ISO 8601, not as a quoted JSON string
    return orjson.dumps(plain).decode()


def _json(value: object) -> bytes:
    return orjson.dumps(_plain(value), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)


class _CsvOut:
    """CSV rows written into an open zip entry (UTF-8 with BOM, so spreadsheets read it)."""

    def __init__(self, raw: IO[bytes], header: list[str]) -> None:
        self._text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._text)
        self._writer.writerow(header)

    def row(self, values: Iterable[object]) -> None:
        self._writer.writerow([_cell(v) for v in values])

    def close(self) -> None:
        self._text.flush()
        self._text.detach()


def _read_items(
    ctx: RequestContext, subject_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    vault = ctx.vault
    rules = vault.rules()
    with db.read(ctx.engine) as conn:
        subject = subjects.record(conn, subject_id)
        wrapped = subjects.wrapped_key(conn, subject_id) if subject is not None else None
        rows = subjects.items_of(conn, subject_id) if subject is not None else []
    if subject is None:
        return {"id": subject_id, "status": "unknown"}, []
    info = {
        "id": subject_id,
        "type": subject.type,
        "status": subject.status,
        "registered_at": subject.created_at,
        "withdrawn_at": subject.withdrawn_at,
    }
    if wrapped is None or not rows:
        return info, []
    cipher = vault.cipher(subject_id, wrapped)
    order = {item_id: n for n, item_id in enumerate(rules.items)}
    out: list[dict[str, Any]] = []
    for row in sorted(rows, key=lambda r: order.get(r.item_id, len(order))):
        value = orjson.loads(
            crypto.decrypt(cipher, row.ciphertext, subject_id=subject_id, item_id=row.item_id)
        )
        item = rules.items.get(row.item_id)
        out.append(
            {
                "id": row.item_id,
                "label": {"ja": item.label.ja, "en": item.label.en} if item else None,
                "value": value,
                "source": row.source,
                "collected_at": row.collected_at,
                "updated_at": row.updated_at,
                "purposes": list(rules.purposes_of_item.get(row.item_id, ())),
            }
        )
    return info, out


def _events(
    ctx: RequestContext, subject_id: str, wrapped: bytes | None
) -> Iterator[dict[str, Any]]:
    """Every event of the subject, oldest first, decrypted page by page (constant memory)."""
    if wrapped is None:
        return
    cipher = ctx.vault.cipher(subject_id, wrapped)
    # Keyset pages in the order of the index (subject_id, occurred_at): each page is a range
    # scan of that index, so a million events cost a million rows, not a sort per page.
    after: tuple[dt.datetime, int] | None = None
    while True:
        with db.read(ctx.engine) as conn:
            rows = usage_events.events_by_time(conn, subject_id, after=after, limit=EVENT_BATCH)
        for _id, _occurred_at, ciphertext in rows:
            event: dict[str, Any] = orjson.loads(
                crypto.decrypt(cipher, ciphertext, subject_id=subject_id, item_id="event")
            )
            yield event
        if len(rows) < EVENT_BATCH:
            return
        last_id, last_occurred_at, _ = rows[-1]
        after = (last_occurred_at, last_id)


_EVENT_COLUMNS = ("occurred_at", "action", *EVENT_FIELDS)


def _write_documents(
    zf: zipfile.ZipFile, items: list[dict[str, Any]], words: Words
) -> dict[str, Document]:
    """Each stored document as a real file of the zip (``files/<label>_<n>.<ext>``); item id ->
    its file. ``package.json`` keeps the value and names the file beside it."""
    found: dict[str, Document] = {}
    for item in items:
        value = held(item["value"])
        if not is_document(value):
            continue
        assert isinstance(value, Mapping)  # is_document says so
        document = words.document(item["id"], value["content_type"])
        zf.writestr(document.path, base64.b64decode(value["data"]))
        item["file"] = document.path
        found[item["id"]] = document
    return found


def build(ctx: RequestContext, subject_id: str, out: IO[bytes], *, language: str = "ja") -> Built:
    """Write the package of ``subject_id`` as a zip into ``out``, for a person reading
    ``language`` (Japanese unless ``en``); audited."""
    lang: Lang = "en" if language == "en" else "ja"
    rules = ctx.vault.rules()
    policy = ctx.published.current().policy
    words = Words(rules, policy, lang, ctx.settings.time_zone)
    col = words.column
    subject, items = _read_items(ctx, subject_id)
    settings = usage_settings(ctx.vault, subject_id) if subject["status"] != "unknown" else None
    with db.read(ctx.engine) as conn:
        wrapped = subjects.wrapped_key(conn, subject_id)
    summary: dict[tuple[str, str], int] = {}
    event_count = 0
    section_counts: dict[str, int] = {}
    with (
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf,
        tempfile.TemporaryFile() as section_json,
    ):
        # -- every usage event, streamed, counted per action and month on the way -----------
        with zf.open("events.csv", "w", force_zip64=True) as raw:
            writer = _CsvOut(raw, [*(col(c) for c in _EVENT_COLUMNS), col("other")])
            for event in _events(ctx, subject_id, wrapped):
                event_count += 1
                action = str(event.get("action", ""))
                when = words.when(event.get("occurred_at"))
                key = (action, when[:7])  # the month in the operator's zone, as people read it
                summary[key] = summary.get(key, 0) + 1
                rest = {k: v for k, v in event.items() if k not in _EVENT_COLUMNS}
                writer.row(
                    [
                        when,
                        words.action(action),
                        *(event.get(f) for f in EVENT_FIELDS),
                        words.value(rest) if rest else None,
                    ]
                )
            writer.close()
        # -- the sections other parts register (a section without rows has no CSV) ----------
        registered = ordered_sections(s.bound(ctx) for s in ctx.sections)
        section_json.write(b"{")
        for n, (name, fn) in enumerate(registered.items()):
            section_json.write((b"," if n else b"") + orjson.dumps(name) + b":[")
            count = 0
            with db.read(ctx.engine) as conn, contextlib.ExitStack() as opened:
                rows_out: _CsvOut | None = None
                header: list[str] = []
                for row in fn(conn, subject_id):
                    plain = cast(dict[str, object], _plain(row))
                    if rows_out is None:
                        header = list(plain)
                        raw = opened.enter_context(zf.open(f"sections/{name}.csv", "w"))
                        rows_out = _CsvOut(raw, [col(h) for h in header])
                        opened.callback(rows_out.close)
                    rows_out.row(words.cell(h, plain.get(h)) for h in header)
                    section_json.write((b"," if count else b"") + orjson.dumps(plain))
                    count += 1
            section_json.write(b"]")
            section_counts[name] = count
        section_json.write(b"}")
        # -- documents as files, items, summary, the JSON and the readable page --------------
        documents = _write_documents(zf, items, words)
        with zf.open("items.csv", "w") as raw:
            header = ["item", "value", "source", "collected_at", "updated_at", "purposes"]
            writer = _CsvOut(raw, [col(h) for h in [*header, "retention"]])
            for item in items:
                document = documents.get(item["id"])
                writer.row(
                    [
                        words.item(item["id"]),
                        document.path if document else words.value(item["value"]),
                        words.source(item["source"]),
                        words.when(item["collected_at"]),
                        words.when(item["updated_at"]),
                        words.purposes(item["purposes"]),
                        words.item_retention(item["id"]),
                    ]
                )
            writer.close()
        by_month = [
            {"action": action, "month": month, "count": count}
            for (action, month), count in sorted(summary.items(), key=lambda kv: kv[0][::-1])
        ]
        with zf.open("events_summary.csv", "w") as raw:
            writer = _CsvOut(raw, [col("month"), col("action"), col("count")])
            for entry in by_month:
                writer.row([entry["month"], words.action(str(entry["action"])), entry["count"]])
            writer.close()
        stops = {
            "items": sorted(settings.stopped_items) if settings else [],
            "purposes": sorted(settings.stopped_purposes) if settings else [],
        }
        head = {
            "format": FORMAT,
            "language": lang,
            "generated_at": ctx.clock.now(),
            "operator": policy.operator.name.get(lang),
            "subject": subject,
            "items": items,
            "purposes": {
                p.id: {"ja": p.label.ja, "en": p.label.en}
                for p in rules.purposes.values()
                if any(p.id in i["purposes"] for i in items)
            },
            "usage_stops": stops,
            "usage_events": {"total": event_count, "by_month": by_month},
        }
        with zf.open("package.json", "w", force_zip64=True) as raw:
            encoded = _json(head)
            raw.write(encoded[:-2])  # the object without its closing "\n}"
            raw.write(b',\n  "sections": ')
            section_json.seek(0)
            shutil.copyfileobj(section_json, raw, 1 << 16)
            raw.write(b"\n}\n")
        built = Built(len(items), event_count, section_counts)
        page = _env.get_template("package.html").generate(
            lang=lang,
            head=head,
            built=built,
            stops=stops,
            documents=documents,
            words=words,
            facts=policy_facts(words),
            titles={name: labels.label(labels.SECTIONS, name, lang) for name in registered},
            sections=_section_rows(ctx, registered, subject_id),
        )
        with zf.open("index.html", "w") as raw:
            for chunk in page:
                raw.write(chunk.encode())
    ctx.vault.committer.append(
        actor=CALLER,
        action="subject.disclose",
        targets=[f"subject:{subject_id}"],
        details={
            "items": len(items),
            "events": event_count,
            **{f"section.{k}": v for k, v in section_counts.items()},
        },
    )
    return built


def _section_rows(
    ctx: RequestContext, registered: Mapping[str, SectionRows], subject_id: str
) -> Iterator[tuple[str, Iterator[dict[str, object]]]]:
    """Each section's rows again, for the readable page (streamed into the template)."""
    for name, fn in registered.items():
        with db.read(ctx.engine) as conn:
            yield name, (cast(dict[str, object], _plain(r)) for r in fn(conn, subject_id))


def preview_page(zf: zipfile.ZipFile) -> str:
    """``index.html`` of a built package as one page (for staff to check in the console): its
    images, files of the zip beside it, inlined as ``data:`` addresses."""
    page = zf.read("index.html").decode()
    for name in zf.namelist():
        kind = IMAGE_TYPES.get(name.rsplit(".", 1)[-1]) if name.startswith("files/") else None
        if kind is not None:
            data = base64.b64encode(zf.read(name)).decode()
            page = page.replace(f'src="{quote(name)}"', f'src="data:{kind};base64,{data}"')
    return page
