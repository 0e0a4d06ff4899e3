"""What people and staff read about requests, Japanese first. Pure data."""

from __future__ import annotations

from typing import Final

__all__ = [
    "AGENTS",
    "DELIVERIES",
    "GROUNDS",
    "OUTCOMES",
    "SECTIONS",
    "SOURCES",
    "STATUSES",
    "TYPES",
    "label",
]

Labels = dict[str, dict[str, str]]

TYPES: Final[Labels] = {
    "disclosure": {"ja": "開示", "en": "Disclosure"},
    "correction": {"ja": "訂正・追加・削除", "en": "Correction"},
    "usage_stop": {"ja": "利用停止", "en": "Stop of use"},
    "erasure": {"ja": "消去", "en": "Erasure"},
    "provision_stop": {"ja": "第三者提供の停止", "en": "Stop of provision to third parties"},
    "mail_opt_out": {"ja": "ご案内の差し止め", "en": "No more mailings"},
    "inquiry": {"ja": "お問い合わせ・苦情", "en": "Question or complaint"},
}

TYPE_HELP: Final[Labels] = {
    "disclosure": {
        "ja": "当社が保有するお客さまの個人データと第三者提供の記録を開示します。",
        "en": "We disclose the personal data we hold about you and the records of its "
        "provision to third parties.",
    },
    "correction": {
        "ja": "内容が事実でない情報の訂正・追加・削除を求めます。",
        "en": "Ask us to correct, add to or delete information that is not true.",
    },
    "usage_stop": {
        "ja": "法令の定める理由がある場合に、情報の利用の停止を求めます。",
        "en": "Ask us to stop using information, on a ground the law sets out.",
    },
    "erasure": {
        "ja": "法令の定める理由がある場合に、情報の消去を求めます。",
        "en": "Ask us to erase information, on a ground the law sets out.",
    },
    "provision_stop": {
        "ja": "法令の定める理由がある場合に、第三者への提供の停止を求めます。",
        "en": "Ask us to stop providing information to third parties, on a ground the law "
        "sets out.",
    },
    "mail_opt_out": {
        "ja": "郵便やメールによるご案内の送付を止めます。",
        "en": "Stop receiving information from us by post or e-mail.",
    },
    "inquiry": {
        "ja": "個人情報の取り扱いについてのご質問、ご意見、苦情をお寄せください。",
        "en": "Send us a question, an opinion or a complaint about how we handle personal "
        "information.",
    },
}

STATUSES: Final[Labels] = {
    "received": {"ja": "受付済み(本人確認待ち)", "en": "Received (identity not yet confirmed)"},
    "verified": {"ja": "本人確認済み", "en": "Identity confirmed"},
    "in_review": {"ja": "対応中", "en": "In review"},
    "decided": {"ja": "決定済み", "en": "Decided"},
    "notified": {"ja": "通知済み", "en": "Notified"},
    "closed": {"ja": "完了", "en": "Closed"},
}

OUTCOMES: Final[Labels] = {
    "fulfilled": {"ja": "ご請求のとおり対応しました", "en": "Done as requested"},
    "partly_fulfilled": {"ja": "一部について対応しました", "en": "Done in part"},
    "refused": {"ja": "対応しないことと決定しました", "en": "Refused"},
    "no_data": {"ja": "該当する個人データを保有していません", "en": "No data held"},
}

GROUNDS: Final[Labels] = {
    "beyond_purpose": {
        "ja": "利用目的の範囲を超えて取り扱われている(法18条違反)",
        "en": "It is used beyond its purposes (Art. 18)",
    },
    "improper_use": {
        "ja": "不適正な方法で利用されている(法19条違反)",
        "en": "It is used improperly (Art. 19)",
    },
    "improper_acquisition": {
        "ja": "偽りその他不正の手段により取得された(法20条違反)",
        "en": "It was obtained by deception or other wrongful means (Art. 20)",
    },
    "provision_without_consent": {
        "ja": "本人の同意なく第三者に提供されている(法27条1項・28条違反)",
        "en": "It is provided to a third party without consent (Art. 27(1), 28)",
    },
    "no_longer_needed": {
        "ja": "当社が利用する必要がなくなった",
        "en": "The company no longer needs to use it",
    },
    "breach": {
        "ja": "漏えい等の事態が生じた",
        "en": "A data breach has occurred",
    },
    "rights_harmed": {
        "ja": "取り扱いにより本人の権利又は正当な利益が害されるおそれがある",
        "en": "Its handling may harm my rights or legitimate interests",
    },
}

DELIVERIES: Final[Labels] = {
    "electronic": {"ja": "電磁的記録(ダウンロード)", "en": "Electronic record (download)"},
    "post": {"ja": "書面(郵送)", "en": "Paper, by post"},
}

AGENTS: Final[Labels] = {
    "legal_representative": {"ja": "法定代理人", "en": "Legal representative"},
    "appointed_agent": {"ja": "任意代理人(委任状による)", "en": "Appointed agent (by proxy)"},
}


SOURCES: Final[Labels] = {
    "provided": {"ja": "ご本人からご提供", "en": "Given by you"},
    "linked_service": {"ja": "連携された外部サービスから取得", "en": "From a service you linked"},
    "collected": {"ja": "ご利用時に自動で取得", "en": "Collected as you used the service"},
}

SECTIONS: Final[Labels] = {
    "third_party_provisions": {
        "ja": "第三者提供の記録",
        "en": "Records of provision to third parties",
    },
    "cookie_consent_receipts": {"ja": "クッキーの同意の記録", "en": "Your cookie choices"},
    "policy_change_consents": {
        "ja": "プライバシーポリシー変更への同意の記録",
        "en": "Your consents to policy changes",
    },
    "consents": {"ja": "同意の記録", "en": "Your consents"},
}
"""Titles of the disclosure package's sections (a section not named here shows its id)."""


def label(table: Labels, key: str | None, lang: str) -> str:
    if key is None:
        return ""
    entry = table.get(str(key))
    if entry is None:
        return str(key)
    return entry["en" if lang == "en" else "ja"]
