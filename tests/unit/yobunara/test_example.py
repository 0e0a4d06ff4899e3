"""The Yobunara example (examples/yobunara): its policy variant is the seed plus the dietary
item and nothing else, the change it makes is the one its how-to describes, it talks to mamori
through the client alone, and every word its pages use exists in both languages."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import yaml

from mamori.policy.diff import Level, diff_policies
from mamori.policy.loader import load_policy
from tests.helpers.paths import EXAMPLE
from yobunara import words
from yobunara.people import Device

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "examples/yobunara/src/yobunara"
VARIANT = ROOT / "examples/yobunara/policy-dietary.yaml"


def _without_the_change(data: dict[str, Any]) -> dict[str, Any]:
    data["items"] = [i for i in data["items"] if i["id"] != "dietary"]
    for group in data["collection"]["groups"]:
        group["entries"] = [e for e in group["entries"] if e["items"] != ["dietary"]]
    for purpose in data["purposes"]:
        purpose["items"] = [i for i in purpose["items"] if i != "dietary"]
    data["revisions"] = [r for r in data["revisions"] if str(r["date"]) != "2026-12-10"]
    return data


def test_the_variant_is_the_seed_with_the_dietary_item_only() -> None:
    seed = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    variant = yaml.safe_load(VARIANT.read_text(encoding="utf-8"))
    assert _without_the_change(variant) == seed


def test_the_change_needs_consent_for_the_dietary_item() -> None:
    result = diff_policies(load_policy(EXAMPLE), load_policy(VARIANT))
    assert result.level is Level.consent_required
    assert result.consent_uses == {("dietary", "service_operation")}
    assert any(
        "要配慮個人情報の項目「食事制限・アレルギー」" in line for line in result.explain("ja")
    )


def test_the_service_reaches_mamori_through_the_client_only() -> None:
    """A host service copies this example: it must not lean on mamori's insides."""
    allowed = {"mamori.client", "mamori.errors"}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name == "mamori" or name.startswith("mamori."):
                    assert name in allowed, f"{path.name} imports {name}"


def test_every_word_of_the_pages_is_in_both_languages() -> None:
    used: set[str] = set()
    for template in (PACKAGE / "templates").glob("*.html"):
        text = template.read_text(encoding="utf-8")
        used |= set(re.findall(r"""_\(["']([a-z_]+)["']\s*[,)]""", text))
        if "design_" in text:
            used |= {"design_sakura", "design_aozora"}
    for module in PACKAGE.rglob("*.py"):
        used |= set(re.findall(r"""problem=\(?["']([a-z_]+)["']""", module.read_text("utf-8")))
    missing = used - words.WORDS.keys()
    assert not missing, f"words used but not defined: {sorted(missing)}"
    for key, (ja, en) in words.WORDS.items():
        assert ja.strip() and en.strip(), key
        assert re.findall(r"{\w+}", ja) == re.findall(r"{\w+}", en), key
    assert words.refusal("en", "stopped_by_person") == "stopped by the person"
    assert words.refusal("ja", "key_not_granted") == "(key_not_granted)"


def test_the_device_is_told_from_the_user_agent() -> None:
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15"
    assert Device.of(iphone, "203.0.113.7") == Device("iPhone", "iOS", "203.0.113.7")
    assert Device.of("Mozilla/5.0 (Linux; Android 14)", None).model == "Android"
    assert Device.of("", None) == Device("unknown", "unknown", None)
