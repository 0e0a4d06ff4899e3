"""A policy with many items: a write, a read and a provision naming 60 of them are audited
item by item and answer 200 (an audit entry once held at most 32 details, so any call naming
more than about 28 items failed with a 500)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.vault import service_keys
from mamori.web.app import create_app
from tests.helpers import edits
from tests.helpers.runtime import open_test_runtime

EXTRA = [f"note_{n:02d}" for n in range(60)]


def _many_items(data: dict[str, Any]) -> None:
    for item_id in EXTRA:
        data["items"].append(
            {
                "id": item_id,
                "label": {"ja": f"メモ{item_id}", "en": f"Note {item_id}"},
                "category": "contact",
                "kind": "text",
                "source": "provided",
                "subjects": ["customer"],
            }
        )
    edits.purpose(data, "service_operation")["items"].extend(EXTRA)
    hosting = next(r for r in data["recipients"] if r["id"] == "hosting")
    hosting["items"].extend(EXTRA)


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    path = edits.write_edited(tmp_path / "many.yaml", _many_items, edits.revision)
    runtime.publish_file(path, actor="test")
    yield runtime
    runtime.close()


def test_calls_naming_sixty_items_are_audited_item_by_item(runtime: Runtime) -> None:
    _, token = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="many",
        purposes=["service_operation"],
        operations=["read", "write", "provide"],
        actor="test",
    )
    with TestClient(create_app(runtime=runtime)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        values = {item_id: f"v-{item_id}" for item_id in EXTRA}
        created = client.post("/api/v1/subjects", json={"type": "customer", "items": values})
        assert created.status_code == 201, created.text
        subject = created.json()["id"]
        read = client.get(
            f"/api/v1/subjects/{subject}/items",
            params={"purpose": "service_operation", "items": ",".join(EXTRA)},
        )
        assert read.status_code == 200, read.text
        assert read.json()["items"] == values
        provided = client.post(
            "/api/v1/provisions",
            json={
                "recipient": "hosting",
                "purpose": "service_operation",
                "items": EXTRA,
                "subjects": [subject],
            },
        )
        assert provided.status_code == 200, provided.text
        assert provided.json()["people"][0]["items"] == values
    entries = {e.action: e for e in runtime.audit.tail(20)}
    assert entries["subject.read"].details["item.note_59"] == "released"
    assert entries["provision.provide"].details["item.note_00"] == 1
    assert "v-note_00" not in str(entries["subject.read"].details)
