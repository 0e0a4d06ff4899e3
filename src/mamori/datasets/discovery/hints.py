"""What a column's name says: the kinds its name suggests (English and Japanese)."""

from __future__ import annotations

import re
import unicodedata

from mamori.datasets.discovery.kinds import Kind

__all__ = ["hinted_kinds"]

_HINTS: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    (Kind.email, re.compile(r"e_?mail|mail_?(address|addr)|^mail$|メール")),
    (Kind.phone, re.compile(r"phone|^tel|_tel|tel_|telephone|mobile|keitai|fax|電話|携帯")),
    (Kind.postal_code, re.compile(r"zip|postal|post_?code|postcode|yubin|郵便番号|〒")),
    (Kind.address, re.compile(r"address|addr|street|city|prefecture|住所|所在地|都道府県")),
    (
        Kind.person_name,
        re.compile(
            r"(^|_)(full_?|first_?|last_?|given_?|family_?|sur|nick)?name(_?kana)?($|_)"
            r"|kana|furigana|shimei|simei|氏名|名前|姓|フリガナ|ふりがな|担当者"
        ),
    ),
    (Kind.birth_date, re.compile(r"birth|dob|bday|birthday|誕生|生年月日")),
    (
        Kind.my_number,
        re.compile(r"my_?number|mynumber|kojin_?bango|individual_?number|マイナンバー|個人番号"),
    ),
    (Kind.corporate_number, re.compile(r"corporate_?number|houjin|hojin|法人番号")),
    (Kind.card_number, re.compile(r"card|pan$|^pan_|cc_?num|credit|カード")),
)
# Names that contain a hint's word but name something else.
_NOT_NAMES = re.compile(
    r"(user|file|host|domain|table|column|product|item|plan|company|shop|store|event|venue"
    r"|template|class|type|display|screen|tag|brand|campaign|key|app|service)_?name"
)
_NOT_ADDRESS = re.compile(r"ip_?addr|mac_?addr|remote_?addr|e_?mail_?addr|mail_?addr")


def hinted_kinds(column: str) -> frozenset[Kind]:
    """The kinds a column named ``column`` suggests: ``customer_email`` suggests e-mail,
    ``生年月日`` a date of birth, ``file_name`` nothing."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", unicodedata.normalize("NFKC", column))
    name = name.lower().replace("-", "_").replace(" ", "_")
    kinds = {kind for kind, pattern in _HINTS if pattern.search(name)}
    if Kind.person_name in kinds and _NOT_NAMES.search(name):
        kinds.discard(Kind.person_name)
    if Kind.address in kinds and _NOT_ADDRESS.search(name):
        kinds.discard(Kind.address)
    if Kind.email in kinds:
        kinds.discard(Kind.address)
    return frozenset(kinds)
