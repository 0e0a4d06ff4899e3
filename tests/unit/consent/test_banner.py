"""The pure parts: the banner built from the registry, its hash, Consent Mode, choices, cookie."""

from __future__ import annotations

import datetime as dt

import pytest

from mamori.config import example_policy_path
from mamori.consent.banner import (
    CONSENT_MODE_TYPES,
    build_banner,
    consent_mode_state,
    gpc_categories,
    section_hash,
)
from mamori.consent.choice import (
    accept_all,
    choice_from_cookie,
    decode_cookie,
    encode_cookie,
    new_consent_id,
    normalise,
    reject_all,
)
from mamori.errors import ConsentChoiceInvalid
from mamori.policy.loader import read_policy
from mamori.policy.model import Policy

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return read_policy(example_policy_path()).policy


def test_the_banner_lists_the_four_cookie_rows_of_the_example(policy: Policy) -> None:
    banner = build_banner(policy, 1, "ja", gpc=False)
    content = banner.content
    assert content["title"] == "クッキーの利用について"
    assert "株式会社ココチエ" in content["body"]
    services = {s["id"]: s for c in content["categories"] for s in c["services"]}
    assert list(services) == ["google_analytics", "a8net", "google_ads", "youtube"]
    assert services["a8net"]["opt_out_url"] is None  # 提供なし
    assert services["a8net"]["provider"] == "株式会社ファンコミュニケーションズ"
    assert services["google_ads"]["name"] == "Google 広告"
    assert services["google_analytics"]["opt_out_url"] == (
        "https://tools.google.com/dlpage/gaoptout?hl=ja"
    )
    assert [c["id"] for c in content["categories"]] == ["necessary", "analytics", "advertising"]
    assert content["categories"][0]["required"] is True
    en = build_banner(policy, 1, "en", gpc=False).content
    assert en["accept"] == "Accept all" and en["reject"] == "Reject all"
    assert "Kokochie" in en["body"]


def test_the_hash_is_of_the_exact_text_and_differs_by_language_and_gpc(policy: Policy) -> None:
    ja = build_banner(policy, 1, "ja", gpc=False)
    again = build_banner(policy, 1, "ja", gpc=False)
    assert ja.text_hash == again.text_hash and len(ja.text_hash) == 64
    assert build_banner(policy, 1, "en", gpc=False).text_hash != ja.text_hash
    gpc = build_banner(policy, 1, "ja", gpc=True)
    assert gpc.text_hash != ja.text_hash and gpc.gpc
    assert gpc.content["accept"] == "同意する(広告を除く)"
    assert gpc.content["gpc_notice"] and ja.content["gpc_notice"] is None
    import hashlib

    assert hashlib.sha256(ja.text.encode()).hexdigest() == ja.text_hash


def test_gpc_turns_off_the_advertising_categories(policy: Policy) -> None:
    assert gpc_categories(policy.cookies) == ("advertising",)
    choice = accept_all(policy.cookies, off=gpc_categories(policy.cookies))
    assert choice.categories == {"necessary": True, "analytics": True, "advertising": False}
    assert choice.services["youtube"] is False and choice.services["google_analytics"] is True


def test_consent_mode_covers_all_seven_types_from_the_mapping(policy: Policy) -> None:
    default = consent_mode_state(policy.cookies, None)
    assert tuple(default) == CONSENT_MODE_TYPES and len(default) == 7
    assert default["security_storage"] == default["functionality_storage"] == "granted"
    assert default["analytics_storage"] == default["ad_storage"] == "denied"
    granted = consent_mode_state(policy.cookies, {"analytics": True, "advertising": True})
    assert granted["ad_user_data"] == granted["analytics_storage"] == "granted"
    assert granted["personalization_storage"] == "denied"  # mapped by no category


def test_a_choice_is_checked_against_the_registry(policy: Policy) -> None:
    choice = normalise(
        policy.cookies, {"analytics": True, "necessary": False}, {"google_ads": True}
    )
    assert choice.categories == {"necessary": True, "analytics": True, "advertising": False}
    assert choice.services == {
        "google_analytics": True,
        "a8net": False,
        "google_ads": False,  # its category is refused
        "youtube": False,
    }
    with pytest.raises(ConsentChoiceInvalid, match="unknown cookie category 'analytcs'"):
        normalise(policy.cookies, {"analytcs": True})
    with pytest.raises(ConsentChoiceInvalid, match="unknown cookie service"):
        normalise(policy.cookies, {}, {"facebook": True})
    with pytest.raises(ConsentChoiceInvalid, match="give true or false"):
        normalise(policy.cookies, {"analytics": "yes"})
    assert reject_all(policy.cookies).granted() == ("necessary",)


def test_the_cookie_round_trips_and_expires(policy: Policy) -> None:
    section = section_hash(policy.cookies)
    consent_id = new_consent_id()
    choice = normalise(policy.cookies, {"advertising": True}, {"google_ads": False})
    value = encode_cookie(policy.cookies, consent_id, section, NOW, choice)
    assert value == f"{consent_id}.{section[:16]}.{int(NOW.timestamp())}.advertising.google_ads"
    stored = decode_cookie(value, section=section, days=180, now=NOW + dt.timedelta(days=1))
    assert stored is not None and stored.valid and stored.consent_id == consent_id
    assert choice_from_cookie(policy.cookies, stored) == choice
    late = decode_cookie(value, section=section, days=180, now=NOW + dt.timedelta(days=181))
    assert late is not None and not late.valid
    other = decode_cookie(value, section="0" * 64, days=180, now=NOW)
    assert other is not None and not other.valid
    assert decode_cookie("garbage", section=section, days=180, now=NOW) is None
    assert decode_cookie(None, section=section, days=180, now=NOW) is None


def test_a_change_of_the_cookie_section_changes_its_hash(policy: Policy) -> None:
    before = section_hash(policy.cookies)
    services = [s for s in policy.cookies.services if s.id != "a8net"]
    changed = policy.cookies.model_copy(update={"services": services})
    assert section_hash(changed) != before
    # Something outside the cookie section changes nothing.
    other = policy.model_copy(update={"changes": policy.requests.where})
    assert section_hash(other.cookies) == before
