"""Pseudonymised exports written as Parquet, through pyarrow (the ``parquet`` extra).

pyarrow is optional: :func:`require` answers a missing one with a :class:`UserInputError`
naming the extra, before anything is read or recorded. :func:`write` streams the export's pages
into a ``ParquetWriter``, one row group a page, so memory holds one page whatever the number of
people. Every column is a nullable string, each cell the text the CSV holds (a date or number
is the text the vault keeps; a value that is not a string is sorted JSON); a value the person
does not hold (or stopped) is null where the CSV has an empty cell. The file's key-value
metadata names the purpose, the export and the key generation (``mamori.*``), never a person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from mamori.errors import UserInputError

__all__ = ["MISSING", "Sink", "require", "write"]

MISSING = "format parquet needs pyarrow: install mamori with the parquet extra (mamori[parquet])"


class Sink(Protocol):
    """A file open for writing: pyarrow asks ``closed`` and calls ``write`` and ``flush``."""

    @property
    def closed(self) -> bool: ...

    def write(self, data: bytes, /) -> Any: ...

    def flush(self) -> None: ...


def require() -> Any:
    """pyarrow's ``parquet`` module, or a UserInputError naming the extra to install."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise UserInputError(MISSING) from None
    return pq


def write(
    sink: Sink,
    header: Sequence[str],
    pages: Iterable[Sequence[Sequence[str | None]]],
    *,
    metadata: Mapping[str, str],
    compression: bool = True,
) -> int:
    """Write ``pages`` of rows (cells in ``header``'s order) to ``sink``; how many rows."""
    pq = require()
    import pyarrow as pa

    schema = pa.schema(
        [pa.field(name, pa.string()) for name in header],
        metadata={f"mamori.{k}": v for k, v in metadata.items()},
    )
    rows = 0
    # pyarrow wraps ``sink`` (a file object) in a stream that counts the position
    # itself: a pipe (standard output) will do. Closing the writer does not close ``sink``.
    writer = pq.ParquetWriter(sink, schema, compression="zstd" if compression else "none")
    try:
        for page in pages:
            if not page:
                continue
            columns = [pa.array([row[i] for row in page], pa.string()) for i in range(len(header))]
            writer.write_batch(pa.record_batch(columns, schema=schema))
            rows += len(page)
    finally:
        writer.close()
    return rows
