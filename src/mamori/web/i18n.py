"""Languages of the pages: negotiation and the words of the page chrome (Japanese first)."""

from __future__ import annotations

from typing import Literal

__all__ = ["LANGUAGES", "Lang", "negotiate", "parse_accept_language", "words"]

Lang = Literal["ja", "en"]
LANGUAGES: tuple[Lang, ...] = ("ja", "en")


def parse_accept_language(header: str) -> list[str]:
    """Primary language tags of an Accept-Language header, best first (RFC 9110 12.5.4)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, index, tag.split("-")[0]))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(query: str | None, accept_language: str | None, default: Lang) -> Lang:
    """``?lang=`` wins, then Accept-Language, then the default. Raises ValueError on bad query."""
    if query is not None:
        if query not in LANGUAGES:
            raise ValueError(query)
        return query
    for tag in parse_accept_language(accept_language or ""):
        if tag == "ja":
            return "ja"
        if tag == "en":
            return "en"
        if tag == "*":
            return default
    return default


_WORDS: dict[str, dict[Lang, str]] = {
    "site_title": {"ja": "mamori", "en": "mamori"},
    "tagline": {
        "ja": "プライバシーポリシーを、宣言どおりに動く仕組みに。",
        "en": "The privacy policy that enforces itself.",
    },
    "privacy_policy": {"ja": "プライバシーポリシー", "en": "Privacy policy"},
    "versions": {"ja": "改訂履歴と過去の版", "en": "Revision history and earlier versions"},
    "version": {"ja": "版", "en": "Version"},
    "published_at": {"ja": "公開日時", "en": "Published"},
    "effective_date": {"ja": "施行日", "en": "Effective"},
    "content_hash": {"ja": "内容のハッシュ値", "en": "Content hash"},
    "current": {"ja": "現行版", "en": "current"},
    "switch_language": {"ja": "English", "en": "日本語"},
    "api": {"ja": "API (OpenAPI)", "en": "API (OpenAPI)"},
    "health": {"ja": "稼働状況", "en": "Health"},
    "not_found": {"ja": "ページが見つかりません", "en": "Page not found"},
    "error": {"ja": "エラー", "en": "Error"},
    "back_home": {"ja": "トップへ戻る", "en": "Back to the start page"},
    "version_of": {"ja": "第{n}版", "en": "version {n}"},
    "earlier_version_notice": {
        "ja": "これは過去の版です。現行版は次のページにあります:",
        "en": "This is an earlier version. The current version is here:",
    },
    # -- the privacy center (mamori.web.center.home) --
    "center_title": {"ja": "プライバシーセンター", "en": "Privacy center"},
    "center_saved": {
        "ja": "設定を保存しました。変更は直ちに反映されます。",
        "en": "Your settings are saved. The change takes effect immediately.",
    },
    "center_by_purpose": {"ja": "利用目的ごとの設定", "en": "Settings by purpose"},
    "center_by_purpose_help": {
        "ja": "利用目的を停止すると、その目的には、どの項目も利用されなくなります。",
        "en": "When you stop a purpose, none of your information is used for it.",
    },
    "center_by_item": {"ja": "項目ごとの設定", "en": "Settings by item"},
    "center_by_item_help": {
        "ja": "項目を停止すると、その項目は、どの利用目的にも利用されなくなります。",
        "en": "When you stop an item, it is no longer used for any purpose.",
    },
    "center_can_stop": {"ja": "停止できるもの", "en": "What you can stop"},
    "center_only_withdrawal": {
        "ja": "退会によってのみ停止できるもの",
        "en": "What stops only when you withdraw",
    },
    "center_use": {"ja": "利用する", "en": "Use"},
    "center_stop": {"ja": "停止する", "en": "Stop"},
    "center_stopped": {"ja": "停止中", "en": "Stopped"},
    "center_awaiting_consent": {"ja": "同意待ち", "en": "Awaiting your consent"},
    "center_awaiting_consent_help": {
        "ja": "この利用目的はプライバシーポリシーの変更で加わったものです。"
        "あなたが同意されるまで、この目的であなたの情報を利用することはありません。",
        "en": "This purpose was added by a change of the privacy policy. Your information is "
        "not used for it until you consent.",
    },
    "center_awaiting_consent_link": {"ja": "変更の内容を見る", "en": "See the change"},
    "center_items_used": {"ja": "利用する項目", "en": "Items used"},
    "center_purposes_using": {
        "ja": "この項目を利用する目的({n}件)",
        "en": "Purposes that use this item ({n})",
    },
    "center_essential_item": {
        "ja": "この項目はサービスの提供に必須のため、退会によってのみ停止できます",
        "en": "This item is essential to the service and stops only when you withdraw",
    },
    "center_essential_purpose": {
        "ja": "この利用目的はサービスの提供そのもののため、退会によってのみ停止できます",
        "en": "This purpose is the service itself and stops only when you withdraw",
    },
    "center_about_withdrawal": {"ja": "退会について", "en": "About withdrawal"},
    "center_save": {"ja": "設定を保存する", "en": "Save settings"},
    "center_policy_says": {
        "ja": "プライバシーポリシーでの定め",
        "en": "What the privacy policy says",
    },
    "center_full_policy": {"ja": "プライバシーポリシーの全文", "en": "The full privacy policy"},
    "center_requests": {"ja": "開示・訂正・利用停止等のご請求", "en": "Requests about your data"},
    "center_requests_go": {
        "ja": "開示、訂正、利用停止、消去、第三者提供の停止、ご案内の差し止めのご請求と、"
        "お問い合わせ・苦情(これまでのご請求の状況もこちら)",
        "en": "Ask for disclosure, correction, a stop of use, erasure, a stop of provision to "
        "third parties or no more mailings, or send a question or complaint (and see your "
        "earlier requests)",
    },
    "center_account": {"ja": "退会とログアウト", "en": "Withdrawal and signing out"},
    "center_logout": {"ja": "ログアウト", "en": "Sign out"},
    "center_withdraw": {"ja": "退会", "en": "Withdrawal"},
    "center_withdraw_go": {"ja": "退会の手続きへ", "en": "Go to withdrawal"},
    "center_withdraw_intro": {
        "ja": "退会すると、次のとおりになります。",
        "en": "If you withdraw:",
    },
    "center_withdraw_deleted": {
        "ja": "お預かりしているお客さまの情報を、すべての項目と利用履歴を含めて削除します。",
        "en": "We delete all the information we hold about you, every item and your usage "
        "history included.",
    },
    "center_withdraw_key": {
        "ja": "お客さまの情報を暗号化していた鍵を破棄します。バックアップなどに写しが残っていても、"
        "二度と読み出すことはできません。",
        "en": "We destroy the key your information was encrypted with, so that no copy left "
        "anywhere, in backups included, can ever be read again.",
    },
    "center_withdraw_final": {
        "ja": "退会は取り消せません。サービスをふたたび利用するには、新たに登録していただく必要が"
        "あります。",
        "en": "Withdrawal cannot be undone. To use the service again, you would register anew.",
    },
    "center_withdraw_kept": {
        "ja": "法令により保存が求められる記録は、お客さまの情報を含まない番号(ID)としてのみ"
        "残ります。",
        "en": "Records the law requires us to keep remain only as a number (an ID) that holds "
        "none of your information.",
    },
    "center_withdraw_confirm": {
        "ja": "上記の内容を理解したうえで、退会します",
        "en": "I understand the above and want to withdraw",
    },
    "center_withdraw_button": {"ja": "退会する", "en": "Withdraw"},
    "center_withdraw_unconfirmed": {
        "ja": "退会するには、確認のチェックボックスを選んでください。まだ退会していません。",
        "en": "To withdraw, tick the confirmation box. You have not withdrawn.",
    },
    "center_back": {"ja": "設定に戻る", "en": "Back to the settings"},
    "center_withdrawn_title": {
        "ja": "退会の手続きが完了しました",
        "en": "Your withdrawal is complete",
    },
    "center_withdrawn_body": {
        "ja": "お客さまの情報を削除し、暗号化の鍵を破棄しました。これまでのご利用、ありがとう"
        "ございました。",
        "en": "We have deleted your information and destroyed its encryption key. Thank you for "
        "using our services.",
    },
    "center_signed_out_title": {"ja": "ログアウトしました", "en": "You have signed out"},
    "center_how_to_enter": {
        "ja": "プライバシーセンターは、{operator}のサービスから開きます。サービスにログインし、"
        "アカウントの設定などにある、プライバシーセンターへのリンクを選んでください。",
        "en": "You open the privacy center from {operator}'s service: sign in to the service and "
        "choose its link to the privacy center (in your account settings, for example).",
    },
    "center_how_to_enter_note": {
        "ja": "安全のため、リンクは短い時間だけ有効で、一度しか使えません。また、しばらく操作が"
        "ないと、自動的にログアウトします。",
        "en": "For your security, a link works only once and only for a short time, and you are "
        "signed out automatically after a while without activity.",
    },
    "center_problem_link_title": {
        "ja": "このリンクは無効か、有効期限が切れています",
        "en": "This link is invalid or has expired",
    },
    "center_problem_link": {
        "ja": "リンクが正しくないか、有効期限が切れているか、すでに使われています。お手数ですが、"
        "サービスから新しいリンクを取得してください。",
        "en": "The link is not valid, has expired, or has already been used. Please get a new "
        "link from the service.",
    },
    "center_problem_no_session_title": {
        "ja": "プライバシーセンターに入るには",
        "en": "How to open the privacy center",
    },
    "center_problem_csrf_title": {
        "ja": "送信内容を受け付けられませんでした",
        "en": "Your form could not be accepted",
    },
    "center_problem_csrf": {
        "ja": "フォームの確認用の情報が一致しなかったため、何も変更していません。プライバシー"
        "センターを開き直して、もう一度お試しください。",
        "en": "The form's security check did not match, so nothing was changed. Please open the "
        "privacy center again and try once more.",
    },
    "center_problem_withdrawn_title": {"ja": "退会済みです", "en": "You have withdrawn"},
    "center_problem_withdrawn": {
        "ja": "退会の手続きが完了しているため、プライバシーセンターはご利用になれません。",
        "en": "Your withdrawal is complete, so the privacy center is no longer available to you.",
    },
    "center_problem_not_stoppable_title": {
        "ja": "この設定は変更できません",
        "en": "This setting cannot be changed",
    },
    "center_problem_not_stoppable": {
        "ja": "サービスの提供に必須の項目と利用目的は、退会によってのみ停止できます。設定は変更"
        "していません。",
        "en": "Items and purposes essential to the service stop only when you withdraw. Your "
        "settings were not changed.",
    },
    "center_problem_unknown_setting_title": {
        "ja": "この設定は変更できません",
        "en": "This setting cannot be changed",
    },
    "center_problem_unknown_setting": {
        "ja": "送信された内容に、お客さまの設定にない項目または利用目的が含まれていました。設定は"
        "変更していません。",
        "en": "The form named an item or a purpose that is not among your settings. Your "
        "settings were not changed.",
    },
    "center_open_again": {"ja": "設定のページを開く", "en": "Open the settings page"},
}


def words(lang: Lang) -> dict[str, str]:
    return {key: value[lang] for key, value in _WORDS.items()}
