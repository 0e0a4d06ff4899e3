"""Every word a person reads, Japanese first and English second, by key."""

from __future__ import annotations

from typing import Literal

__all__ = ["LANGUAGES", "Lang", "refusal", "t"]

Lang = Literal["ja", "en"]
LANGUAGES: tuple[Lang, ...] = ("ja", "en")

WORDS: dict[str, tuple[str, str]] = {
    "brand": ("WEB招待状 Yobunara", "Yobunara web invitations"),
    "tagline": (
        "結婚式の招待状を、ウェブで。出欠の回答も、引き出物の発送先も、ここで集まります。",
        "Wedding invitations on the web: answers and return-gift addresses, all in one place.",
    ),
    "other_language": ("English", "日本語"),
    "sign_up": ("新規登録", "Sign up"),
    "sign_in": ("ログイン", "Sign in"),
    "sign_out": ("ログアウト", "Sign out"),
    "name": ("お名前", "Name"),
    "email": ("メールアドレス", "E-mail address"),
    "address": ("ご住所", "Address"),
    "phone": ("電話番号", "Phone number"),
    "password": ("パスワード(10文字以上)", "Password (10 characters or more)"),
    "password_plain": ("パスワード", "Password"),
    "sign_up_note": (
        "ご登録の情報は、当社のプライバシーポリシーに従い、個人情報保護の仕組み(mamori)で暗号化して管理します。",
        "What you register is kept encrypted in our privacy system (mamori), as our privacy"
        " policy says.",
    ),
    "privacy_policy": ("プライバシーポリシー", "Privacy policy"),
    "cookie_settings": ("クッキーの設定", "Cookie settings"),
    "privacy_center": ("プライバシーセンター", "Privacy center"),
    "bad_sign_in": (
        "メールアドレスまたはパスワードが違います。",
        "The e-mail address or the password is not right.",
    ),
    "taken": (
        "このメールアドレスはすでに登録されています。ログインしてください。",
        "This e-mail address is registered already: please sign in.",
    ),
    "short_password": (
        "パスワードは10文字以上にしてください。",
        "Use a password of 10 characters or more.",
    ),
    "required": ("入力してください", "Please fill this in"),
    "bad_value": (
        "入力内容を確認してください: {field}",
        "Please check what you entered: {field}",
    ),
    "dashboard": ("マイページ", "My page"),
    "hello": ("{name} さま", "Hello, {name}"),
    "invitation": ("招待状", "Invitation"),
    "edit_invitation": ("招待状を作成・編集する", "Create or edit the invitation"),
    "no_invitation": ("まだ招待状がありません。", "You have no invitation yet."),
    "event_date": ("日付", "Date"),
    "event_time": ("開始時刻", "Starts at"),
    "venue": ("会場", "Venue"),
    "greeting": ("ごあいさつ", "Greeting"),
    "design": ("イメージ画像", "Image"),
    "design_sakura": ("桜", "Cherry blossoms"),
    "design_aozora": ("青空", "Blue sky"),
    "video": ("YouTube動画のURL(任意)", "YouTube video URL (optional)"),
    "bad_video": (
        "YouTubeの動画のURLを入力してください。",
        "Enter the URL of a YouTube video.",
    ),
    "save": ("保存する", "Save"),
    "saved": ("保存しました。", "Saved."),
    "guest_link": ("ゲストに送るURL", "The link to send to your guests"),
    "views": ("閲覧数", "Views"),
    "guest_list": ("ゲストリスト", "Guest list"),
    "shipping_list": ("引き出物の発送先リスト", "Return-gift shipping list"),
    "guest_list_note": (
        "利用目的「当社サービスの提供」のためにmamoriから読み出しています。",
        "Read from mamori for the purpose of providing the service.",
    ),
    "shipping_note": (
        "利用目的「商品等の手配・発送」のためにmamoriから読み出しています。出席のゲストのみです。",
        "Read from mamori for the purpose of shipping; attending guests only.",
    ),
    "attendance": ("出欠", "Attendance"),
    "attending": ("出席", "Attending"),
    "absent": ("欠席", "Not attending"),
    "message": ("メッセージ", "Message"),
    "dietary": ("食事制限・アレルギー", "Dietary requirements"),
    "status": ("状態", "Status"),
    "no_answers": ("まだ回答はありません。", "No answers yet."),
    "count_attending": ("出席 {n} 名", "{n} attending"),
    "answers": ("回答", "Answers"),
    "count_answers": ("{n} 件", "{n}"),
    "stopped_row": ("ご本人が利用を停止しています", "The guest has stopped this use"),
    "withdrawn_row": ("ご本人が退会しました", "The guest has withdrawn"),
    "account": ("アカウント設定", "Account settings"),
    "account_note": (
        "登録情報の確認、利用停止、クッキーの設定、開示等の請求、退会は、プライバシーセンターで行えます。",
        "See your data, stop uses of it, choose cookies, file requests or withdraw in the"
        " privacy center.",
    ),
    "open_center": ("プライバシーセンターを開く", "Open the privacy center"),
    "rsvp": ("ご出欠の回答", "Your answer"),
    "will_attend": ("出席します", "I will attend"),
    "will_not_attend": ("欠席します", "I cannot attend"),
    "gift_address": ("ご住所(引き出物の送付先)", "Address (for the return gift)"),
    "guest_message": ("新郎新婦へのメッセージ(任意)", "A message to the couple (optional)"),
    "dietary_field": (
        "食事制限・アレルギー(任意)",
        "Dietary requirements and allergies (optional)",
    ),
    "dietary_explain": (
        "アレルギーや宗教上の理由による食事制限は、要配慮個人情報にあたることがあります。ご記入いただく場合は、"
        "プライバシーポリシーの改訂(第{version}版)に基づく取り扱いへの同意をお願いします。",
        "Allergies and dietary rules of a faith may be sensitive personal information. If you"
        " tell us, please agree to how the revised privacy policy (version {version}) handles"
        " them.",
    ),
    "dietary_consent": (
        "食事制限・アレルギーの情報を、新郎新婦がお食事を準備するために取り扱うことに同意します",
        "I agree that my dietary requirements are used so that the couple can prepare the meals",
    ),
    "dietary_needs_consent": (
        "食事制限・アレルギーをご記入の場合は、取り扱いへの同意にチェックしてください。",
        "To tell us your dietary requirements, please tick the box to agree first.",
    ),
    "send": ("回答する", "Send"),
    "thanks": ("ご回答ありがとうございました", "Thank you for your answer"),
    "thanks_note": (
        "ご回答の内容は、プライバシーセンターでいつでも確認、利用停止、開示の請求ができます。",
        "You can see your answer, stop its uses or ask for disclosure in the privacy center"
        " at any time.",
    ),
    "video_title": ("招待状の動画", "The invitation's video"),
    "watch_on_youtube": ("YouTubeで見る", "Watch on YouTube"),
    "hosts": ("主催", "Hosts"),
    "not_found": ("ページが見つかりません。", "Page not found."),
    "signed_out_gone": (
        "アカウントは退会により削除されました。",
        "The account was deleted when you withdrew.",
    ),
    "back": ("戻る", "Back"),
}

REFUSALS: dict[str, tuple[str, str]] = {
    "stopped_by_person": ("利用停止中", "stopped by the person"),
    "consent_required": ("同意待ち", "awaiting consent"),
    "withdrawn": ("退会済み", "withdrawn"),
}


def t(lang: Lang, key: str, **values: object) -> str:
    text = WORDS[key][LANGUAGES.index(lang)]
    return text.format(**values) if values else text


def refusal(lang: Lang, reason: str) -> str:
    """mamori's reason for withholding an item, in words (an unknown code as it came)."""
    words = REFUSALS.get(reason)
    return words[LANGUAGES.index(lang)] if words else f"({reason})"
