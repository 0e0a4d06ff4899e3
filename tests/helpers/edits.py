"""Modified copies of the example policy, for the tests of policy changes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from mamori.policy.loader import parse_policy
from mamori.policy.model import Policy
from tests.helpers.paths import EXAMPLE

Edit = Callable[[dict[str, Any]], None]


def example_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return data


def edited_text(*edits: Edit) -> str:
    """The example policy with ``edits`` applied, as YAML (a new revision date is added)."""
    data = example_data()
    for edit in edits:
        edit(data)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def edited(*edits: Edit) -> Policy:
    return parse_policy(edited_text(*edits), "edited.yaml")


def write_edited(path: Path, *edits: Edit) -> Path:
    path.write_text(edited_text(*edits), encoding="utf-8")
    return path


def purpose(data: dict[str, Any], purpose_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in data["purposes"] if p["id"] == purpose_id)
    return found


def item(data: dict[str, Any], item_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(i for i in data["items"] if i["id"] == item_id)
    return found


def revision(data: dict[str, Any]) -> None:
    """A new revision entry, as every real change carries."""
    data["revisions"].append({"date": "2025-04-01", "label": {"ja": "改訂", "en": "Revised"}})


# -- the changes the tests classify -----------------------------------------------------------


def unrelated_purpose(data: dict[str, Any]) -> None:
    """A new purpose for items already held, related to nothing before: consent required."""
    data["purposes"].append(
        {
            "id": "partner_offers",
            "label": {
                "ja": "提携先の商品をご案内するため",
                "en": "To tell you about partners' offers",
            },
            "group": "marketing_statistics",
            "items": ["email", "address"],
        }
    )


def related_purpose(data: dict[str, Any]) -> None:
    """A new purpose declared related to one that already used its items: a notice."""
    data["purposes"].append(
        {
            "id": "anniversary_mail",
            "label": {
                "ja": "ご利用の記念日をお知らせするため",
                "en": "To tell you of the anniversary of your use of our Services",
            },
            "group": "marketing_statistics",
            "related_to": ["promotion"],
            "items": ["email", "name"],
        }
    )


def sensitive_item(data: dict[str, Any]) -> None:
    """A new sensitive (要配慮) item used for service operation: consent required."""
    data["items"].append(
        {
            "id": "allergies",
            "label": {"ja": "食物アレルギー", "en": "Food allergies"},
            "category": "health",
            "kind": "text",
            "source": "provided",
            "subjects": ["customer"],
            "sensitive": True,
        }
    )
    purpose(data, "service_operation")["items"].append("allergies")


def joint_user(data: dict[str, Any]) -> None:
    """A new joint user (a new recipient of personal data): consent required."""
    data["joint_use"][0]["users"].append({"ja": "提携する式場", "en": "Partner wedding venues"})


def foreign_contractor(data: dict[str, Any]) -> None:
    """A contractor abroad (a new foreign transfer, APPI 28): consent required."""
    data.setdefault("recipients", []).append(
        {
            "id": "mailer",
            "name": {"ja": "Example Mail Inc.", "en": "Example Mail Inc."},
            "relationship": "contractor",
            "task": {"ja": "メールの配信", "en": "Sending e-mail"},
            "items": ["email", "name"],
            "purposes": ["service_operation"],
            "country": "US",
            "foreign": {
                "system": {"ja": "米国の制度", "en": "The system of the United States"},
                "measures": {"ja": "OECD8原則に沿う措置", "en": "Measures per the OECD principles"},
            },
        }
    )


def joint_use_purposes(data: dict[str, Any]) -> None:
    """The joint users' purposes of use change: told in advance (APPI 27(6))."""
    data["joint_use"][0]["purposes"].append(
        {
            "ja": "共同利用者による新商品の案内のため",
            "en": "For joint users to tell you of new goods",
        }
    )


def joint_user_shipping(data: dict[str, Any]) -> None:
    """A joint user may use data for one more purpose (shipping): told in advance."""
    found = next(r for r in data["recipients"] if r["id"] == "payment_processor")
    found["purposes"] = ["service_operation", "shipping"]


def joint_use_responsible_moved(data: dict[str, Any]) -> None:
    """The responsible party's address changes: told without delay (APPI 27(6))."""
    data["joint_use"][0]["responsible"]["address"] = {
        "ja": "東京都渋谷区神南一丁目1番1号",
        "en": "1-1-1 Jinnan, Shibuya-ku, Tokyo",
    }


def joint_use_responsible_replaced(data: dict[str, Any]) -> None:
    """Another party becomes responsible for the joint use: told in advance."""
    data["joint_use"][0]["responsible"]["name"] = {
        "ja": "株式会社ココチエホールディングス",
        "en": "Kokochie Holdings Co., Ltd.",
    }


def revision_on(day: str) -> Edit:
    """A new revision entry dated ``day`` (ISO), e.g. after the day of publication."""

    def add(data: dict[str, Any]) -> None:
        data["revisions"].append({"date": day, "label": {"ja": "改訂", "en": "Revised"}})

    return add
