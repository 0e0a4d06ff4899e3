"""The example policy with what the statistics tests need: a date of birth, the statistics
purpose counting by prefecture, age band, device model and month, and a pseudonymised purpose."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers.edits import item, purpose, write_edited


def statistics_policy(data: dict[str, Any]) -> None:
    data["items"].append(
        {
            "id": "date_of_birth",
            "label": {"ja": "生年月日", "en": "Date of birth"},
            "category": "contact",
            "kind": "date",
            "source": "provided",
            "subjects": ["customer"],
        }
    )
    stats = purpose(data, "statistics")
    stats["items"] = [*stats["items"], "address", "date_of_birth"]
    stats["statistics"] = {
        "min_cell": 10,
        "dimensions": [
            {"id": "prefecture", "derive": "prefecture", "item": "address"},
            {"id": "age_band", "derive": "age_band", "item": "date_of_birth"},
            {"id": "device_model", "derive": "value", "item": "device_model"},
            {"id": "month", "derive": "month"},
        ],
    }
    data["purposes"].append(
        {
            "id": "research",
            "label": {
                "ja": "サービス改善のための分析（仮名加工情報として）",
                "en": "Analysis to improve the service (as pseudonymised information)",
            },
            "group": "marketing_statistics",
            "items": [
                "name",
                "email",
                "phone",
                "address",
                "identity_document",
                "device_model",
                "os_version",
                "device_id",
            ],
            "pseudonymised": {
                "keep": ["device_model", "os_version"],
                "pseudonymise": ["email", "device_id"],
            },
        }
    )
    assert item(data, "identity_document")["identifier_code"] is True


def statistics_policy_file(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_edited(folder / "statistics.yaml", statistics_policy)
