"""Read and validate dataset declarations, reporting every problem as the policy does:
``file:line: path: message``, with the nearest valid id where a name is unknown.

:func:`parse_dataset` is pure (text in, model out); :func:`load_datasets` reads the folder
``datasets/`` beside the policy file, one ``*.yaml`` per database.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from mamori.datasets.model import FORMAT, Dataset, Erase, IdentityKind
from mamori.errors import DatasetError, PolicyFileError, Problem
from mamori.policy.loader import MAX_BYTES, compose, format_path

__all__ = ["FOLDER", "Loaded", "datasets_folder", "load_datasets", "parse_dataset"]

FOLDER: Final = "datasets"
PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Loaded:
    """A dataset with the file it came from and the line of each path in it."""

    dataset: Dataset
    filename: str
    line: Callable[[PathKey], int | None]

    def problem(self, path: str, message: str) -> Problem:
        """A problem at the dotted ``path`` (``tables.orders.columns.email``) of this file."""
        key = tuple(int(p) if p.isdigit() else p for p in path.split(".")) if path else ()
        return Problem(self.filename, self.line(key), format_path(key), message)


def _near(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _checks(data: dict[str, Any], items: Collection[str] | None) -> Iterator[tuple[PathKey, str]]:
    if data.get("schema", FORMAT) != FORMAT:
        yield ("schema",), f"unknown format {data.get('schema')!r}; this mamori reads '{FORMAT}'"
    connection = data.get("connection")
    if isinstance(connection, str) and ("://" in connection or "@" in connection):
        yield (
            ("connection",),
            (
                "name the setting that holds the database URL (such as YOBUNARA_DATABASE_URL), "
                "never the URL or a password itself"
            ),
        )
    tables = data.get("tables")
    if not isinstance(tables, dict):
        return
    for name, table in tables.items():
        if not isinstance(table, dict):
            continue
        where: PathKey = ("tables", name)
        for column, spec in (table.get("columns") or {}).items():
            if not isinstance(spec, dict):
                continue
            at = (*where, "columns", column)
            item = spec.get("item")
            if items is not None and isinstance(item, str) and item not in items:
                yield (*at, "item"), f"unknown data item '{item}'{_near(item, items)}"
            erase = spec.get("erase", Erase.set_null.value)
            if erase == Erase.rewrite.value and spec.get("value") is None:
                yield (*at, "value"), "erase: rewrite needs the value written (value: ...)"
            if erase != Erase.rewrite.value and spec.get("value") is not None:
                yield (*at, "value"), "a value is written only by erase: rewrite"
            if erase == Erase.keep.value and not spec.get("reason"):
                yield (*at, "reason"), "erase: keep needs the legal reason it is kept (reason: ...)"
        for column, spec in (table.get("identities") or {}).items():
            at = (*where, "identities", column)
            kind = spec.get("kind") if isinstance(spec, dict) else spec
            item = spec.get("item") if isinstance(spec, dict) else None
            if kind in (IdentityKind.custom.value, IdentityKind.external_id.value) and not item:
                yield (
                    at,
                    f"an identity of kind {kind} names the vault's item it matches (item: ...)",
                )
            if items is not None and isinstance(item, str) and item not in items:
                yield (*at, "item"), f"unknown data item '{item}'{_near(item, items)}"
        for n, other in enumerate(table.get("not_through") or []):
            if isinstance(other, str) and other not in tables:
                yield (
                    (*where, "not_through", n),
                    f"unknown table '{other}'{_near(other, list(tables))}",
                )
        for n, ref in enumerate(table.get("references") or []):
            if not isinstance(ref, dict):
                continue
            at = (*where, "references", n)
            target = ref.get("table")
            if isinstance(target, str) and target not in tables:
                yield (*at, "table"), f"unknown table '{target}'{_near(target, list(tables))}"
            cols, to = ref.get("columns"), ref.get("to")
            if isinstance(cols, list) and isinstance(to, list) and len(cols) != len(to):
                yield at, f"{len(cols)} columns refer to {len(to)}: give as many on each side"


def _pydantic(exc: ValidationError) -> Iterator[tuple[PathKey, str]]:
    for err in exc.errors(include_url=False):
        path: PathKey = tuple(err["loc"])
        if err["type"] == "extra_forbidden":
            yield path, f"unknown key '{path[-1]}'"
        elif err["type"] == "missing":
            yield path[:-1], f"missing key '{path[-1]}'"
        elif err["type"] == "string_pattern_mismatch":
            yield path, f"not a valid name (got {err.get('input')!r})"
        elif err["type"] == "enum":
            expected = err.get("ctx", {}).get("expected", "")
            yield path, f"must be one of {expected} (got {err.get('input')!r})"
        else:
            msg = err["msg"]
            yield path, msg[0].lower() + msg[1:]


def parse_dataset(text: str, filename: str, items: Collection[str] | None = None) -> Dataset:
    """Validate one dataset declaration; ``items``: the policy's data item ids (None: not
    checked). Raises :class:`DatasetError` with every problem found."""
    return _parse(text, filename, items).dataset


def _parse(text: str, filename: str, items: Collection[str] | None) -> Loaded:
    data, line, problems = compose(text, filename)
    if problems and data is None:
        raise DatasetError(problems)
    if not isinstance(data, dict):
        raise DatasetError([Problem(filename, 1, "", "a dataset must be a YAML mapping of keys")])
    found: dict[str, Problem] = {}
    for path, message in _checks(data, items):
        found.setdefault(
            format_path(path), Problem(filename, line(path), format_path(path), message)
        )
    dataset: Dataset | None = None
    try:
        dataset = Dataset.model_validate(data)
    except ValidationError as exc:
        for path, message in _pydantic(exc):
            key = format_path(path)
            found.setdefault(key, Problem(filename, line(path), key, message))
    problems.extend(found.values())
    if problems:
        raise DatasetError(sorted(problems, key=lambda p: (p.line or 0, p.path)))
    assert dataset is not None
    return Loaded(dataset, filename, line)


def datasets_folder(policy_path: Path) -> Path:
    """``datasets/`` beside the policy file."""
    return policy_path.parent / FOLDER


def load_datasets(folder: Path, items: Collection[str] | None = None) -> list[Loaded]:
    """Every ``*.yaml`` of ``folder`` (none when it does not exist), by file name; every
    problem of every file in one :class:`DatasetError`. Two files of one id are a problem."""
    if not folder.is_dir():
        return []
    out: list[Loaded] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        raw = path.read_bytes()
        if len(raw) > MAX_BYTES:
            raise PolicyFileError(f"{path}: {len(raw):,} bytes; the limit is {MAX_BYTES:,} bytes")
        try:
            loaded = _parse(raw.decode("utf-8", errors="replace"), str(path), items)
        except DatasetError as exc:
            problems.extend(exc.problems)
            continue
        ident = loaded.dataset.id
        if ident in seen:
            problems.append(Problem(str(path), 1, "id", f"dataset '{ident}' is also {seen[ident]}"))
            continue
        seen[ident] = str(path)
        out.append(loaded)
    if problems:
        raise DatasetError(problems)
    return out
