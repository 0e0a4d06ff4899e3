"""Where the datasets and their databases are: the declarations in ``datasets/`` beside the
policy file, each database's URL from the setting the declaration names (an environment
variable, or ``<NAME>_FILE`` naming a file that holds it, as container secrets do), and the
graph of each dataset over its database's own constraints."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mamori.config import Settings
from mamori.datasets import graph as graphs
from mamori.datasets import storage
from mamori.datasets.loader import Loaded, datasets_folder, load_datasets
from mamori.datasets.model import Dataset
from mamori.errors import DatasetUnavailable
from mamori.store.db import Engine, SQLAlchemyError

__all__ = ["Connected", "connected", "declared", "folder", "url_of"]


def folder(settings: Settings) -> Path:
    return datasets_folder(settings.effective_policy_path)


def declared(
    settings: Settings, items: Collection[str] | None = None, where: Path | None = None
) -> list[Loaded]:
    """The declared datasets (none when the folder does not exist)."""
    return load_datasets(where or folder(settings), items)


def url_of(dataset: Dataset) -> str:
    """The database URL of ``dataset``, from its setting (never logged, never in a message)."""
    name = dataset.connection
    value = os.environ.get(name)
    if not value and os.environ.get(f"{name}_FILE"):
        try:
            value = Path(os.environ[f"{name}_FILE"]).read_text(encoding="utf-8").strip()
        except OSError:
            raise DatasetUnavailable(f"dataset {dataset.id}: cannot read {name}_FILE") from None
    if not value:
        raise DatasetUnavailable(f"dataset {dataset.id}: the setting {name} is not set")
    return value


@dataclass
class Connected:
    loaded: Loaded
    engine: Engine
    graph: graphs.Graph

    @property
    def dataset(self) -> Dataset:
        return self.loaded.dataset


@contextmanager
def connected(loaded: Loaded) -> Iterator[Connected]:
    """``loaded``'s database, open, with the dataset's graph over its constraints."""
    dataset = loaded.dataset
    engine = storage.open_database(url_of(dataset), dataset.connection)
    try:
        try:
            shapes = storage.inspect_tables(engine, dataset.namespace, list(dataset.tables))
        except SQLAlchemyError as exc:
            raise DatasetUnavailable(
                f"dataset {dataset.id}: the database cannot be reached ({type(exc).__name__})"
            ) from None
        yield Connected(loaded, engine, graphs.build(dataset, shapes))
    finally:
        engine.dispose()
