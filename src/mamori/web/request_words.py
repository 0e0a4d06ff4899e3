"""The words of the request pages (privacy center and admin console), Japanese first."""

from __future__ import annotations

from mamori.web.i18n import Lang

__all__ = ["words"]

_WORDS: dict[str, dict[Lang, str]] = {
    "title": {"ja": "開示・訂正・利用停止等のご請求", "en": "Requests about your personal data"},
    "intro": {
        "ja": "ご請求の種類を選んでください。ご本人であることを確認したうえで、期限までに対応し、"
        "結果をメールでお知らせします。",
        "en": "Choose what you want to ask for. We confirm that the request comes from you, "
        "answer by the due date and tell you the result by e-mail.",
    },
    "contact": {"ja": "お問い合わせ窓口", "en": "Contact desk"},
    "mine": {"ja": "これまでのご請求", "en": "Your requests"},
    "new_title": {"ja": "{type}のご請求", "en": "Request: {type}"},
    "email": {"ja": "ご連絡先のメールアドレス", "en": "Your e-mail address"},
    "email_help": {
        "ja": "ご本人確認のコードと、対応結果のお知らせをお送りします。",
        "en": "We send the confirmation code and the result to this address.",
    },
    "items": {"ja": "対象となる情報", "en": "The information concerned"},
    "items_help": {
        "ja": "選ばない場合は、当社が保有するすべての情報が対象になります。",
        "en": "If you choose none, all the information we hold about you is concerned.",
    },
    "items_required": {
        "ja": "対象とする情報を選んでください。",
        "en": "Choose the information concerned.",
    },
    "ground": {"ja": "ご請求の理由(個人情報保護法35条)", "en": "Ground (APPI Art. 35)"},
    "delivery": {"ja": "開示の方法", "en": "How we disclose"},
    "postal_address": {"ja": "郵送先の住所(書面の場合)", "en": "Postal address (paper only)"},
    "corrections": {"ja": "訂正後の内容", "en": "The correct values"},
    "corrections_help": {
        "ja": "訂正を求める項目にだけ、正しい内容を入力してください。",
        "en": "Fill in the correct value only for the items to correct.",
    },
    "message": {"ja": "ご請求の内容・補足", "en": "Details"},
    "message_inquiry": {"ja": "お問い合わせの内容", "en": "Your question or complaint"},
    "agent": {"ja": "代理人によるご請求", "en": "Request by an agent"},
    "agent_none": {"ja": "本人が請求します", "en": "I am the person concerned"},
    "agent_name": {"ja": "代理人の氏名", "en": "Agent's name"},
    "proof": {"ja": "代理権を確認する書類(委任状など)", "en": "Proof of authority (proxy, ...)"},
    "proof_help": {
        "ja": "{mb} MB までの画像または PDF。暗号化して保管します。",
        "en": "An image or PDF of up to {mb} MB. We keep it encrypted.",
    },
    "fee": {
        "ja": "開示の請求には、手数料 {amount} 円がかかります(個人情報保護法38条)。",
        "en": "A disclosure request costs a fee of {amount} yen (APPI Art. 38).",
    },
    "submit": {"ja": "請求する", "en": "Send the request"},
    "send_inquiry": {"ja": "送信する", "en": "Send"},
    "signed_in": {
        "ja": "プライバシーセンターにログインしているため、ご本人確認は済んでいます。",
        "en": "You are signed in to the privacy center, so we know it is you.",
    },
    "verify_title": {"ja": "ご本人の確認", "en": "Confirm it is you"},
    "verify_intro": {
        "ja": "ご請求のときに入力されたメールアドレスに、6桁の確認コードをお送りしました。"
        "コードは10分間有効です。",
        "en": "We have sent a 6-digit confirmation code to the e-mail address given with the "
        "request. The code works for 10 minutes.",
    },
    "code": {"ja": "確認コード", "en": "Confirmation code"},
    "verify": {"ja": "確認する", "en": "Confirm"},
    "resend": {"ja": "新しいコードを送る", "en": "Send a new code"},
    "code_sent": {"ja": "新しいコードをお送りしました。", "en": "We have sent a new code."},
    "status_title": {"ja": "ご請求の状況", "en": "Your request"},
    "reference": {"ja": "受付番号", "en": "Reference"},
    "type": {"ja": "種類", "en": "Type"},
    "status": {"ja": "状況", "en": "Status"},
    "received_at": {"ja": "受付日時", "en": "Received"},
    "due": {"ja": "対応期限", "en": "Due by"},
    "result": {"ja": "結果", "en": "Result"},
    "reason": {"ja": "理由・ご説明", "en": "Reason"},
    "answer": {"ja": "回答", "en": "Answer"},
    "download": {"ja": "開示データをダウンロードする(zip)", "en": "Download the package (zip)"},
    "download_left": {
        "ja": "{until} まで、あと {n} 回ダウンロードできます。",
        "en": "You can download it {n} more times, until {until}.",
    },
    "download_gone": {
        "ja": "ダウンロードの期限が過ぎたか、回数の上限に達しました。",
        "en": "The download has expired or has been used up.",
    },
    "by_post": {
        "ja": "開示する情報は、書面にてご指定の住所へ郵送いたします。",
        "en": "We will send the disclosed information on paper to the address you gave.",
    },
    "no_data": {
        "ja": "当社は、お客さまについての個人データを保有していません。",
        "en": "We hold no personal data about you.",
    },
    "filed": {
        "ja": "ご請求を受け付けました。結果はメールでお知らせします。",
        "en": "We have received your request. We will tell you the result by e-mail.",
    },
    "verified": {
        "ja": "ご本人であることを確認しました。",
        "en": "We have confirmed that it is you.",
    },
    "problem_title": {"ja": "お手続きを続けられませんでした", "en": "We could not go on"},
    "problem_code": {
        "ja": "確認コードが正しくないか、有効期限が切れています。メールをご確認のうえ、もう一度"
        "入力するか、新しいコードをお求めください。",
        "en": "The confirmation code is wrong or has expired. Check the e-mail and enter it "
        "again, or ask for a new code.",
    },
    "problem_locked": {
        "ja": "確認コードを5回まちがえたため、このコードは使えなくなりました。新しいコードを"
        "お求めください。",
        "en": "The code was entered wrongly 5 times and no longer works. Ask for a new code.",
    },
    "problem_rate": {
        "ja": "確認コードの送信回数が上限に達しました。1時間ほどおいてから、もう一度お試し"
        "ください。",
        "en": "Too many codes have been sent. Please wait an hour and try again.",
    },
    "problem_session": {
        "ja": "このページを見るには、ご本人の確認が必要です。確認コードをお求めください。",
        "en": "To see this page, confirm it is you first: ask for a confirmation code.",
    },
    "problem_download": {
        "ja": "このダウンロードは、期限が過ぎたか、回数の上限に達したため、ご利用になれません。"
        "お問い合わせ窓口にご連絡ください。",
        "en": "This download has expired or has been used up. Please contact the contact desk.",
    },
    "problem_input": {
        "ja": "入力内容を確認してください。",
        "en": "Please check what you entered.",
    },
    "problem_csrf": {
        "ja": "フォームの確認用の情報が一致しませんでした。ページを開き直して、もう一度お試し"
        "ください。",
        "en": "The form's security check did not match. Open the page again and try once more.",
    },
    "fix_email": {
        "ja": "メールアドレスを正しく入力してください。",
        "en": "Enter a valid e-mail address.",
    },
    "fix_items": {
        "ja": "対象となる情報を選んでください。",
        "en": "Choose the information concerned.",
    },
    "fix_ground": {"ja": "ご請求の理由を選んでください。", "en": "Choose the ground."},
    "fix_delivery": {"ja": "開示の方法を選んでください。", "en": "Choose how we disclose."},
    "fix_postal_address": {
        "ja": "書面での開示には、郵送先の住所を入力してください(500文字まで)。",
        "en": "For paper, enter the postal address (at most 500 characters).",
    },
    "fix_corrections": {
        "ja": "訂正後の内容を、少なくとも1つの項目に正しい形式で入力してください。",
        "en": "Fill in the correct value of at least one item, in the right form.",
    },
    "fix_message": {
        "ja": "内容を入力してください(4,000文字まで)。",
        "en": "Write your message (at most 4,000 characters).",
    },
    "fix_agent": {"ja": "代理人の種類を選んでください。", "en": "Choose the kind of agent."},
    "fix_agent_name": {
        "ja": "代理人の氏名を入力してください(200文字まで)。",
        "en": "Enter the agent's name (at most 200 characters).",
    },
    "fix_proof": {
        "ja": "代理権を確認する書類を、上限の大きさ以内で添付してください。",
        "en": "Attach the proof of authority, within the size limit.",
    },
    "back": {"ja": "ご請求の一覧に戻る", "en": "Back to the requests page"},
    "to_verify": {"ja": "確認コードを入力する", "en": "Enter a confirmation code"},
    # -- admin console --
    "a_queue": {"ja": "ご請求", "en": "Requests"},
    "a_queue_intro": {
        "ja": "期限の近い順に並んでいます。期限を過ぎたものは強調して表示します。",
        "en": "Sorted by due date, earliest first. Overdue requests are highlighted.",
    },
    "a_show_closed": {"ja": "完了したものも表示", "en": "Show closed requests too"},
    "a_none": {"ja": "ご請求はありません。", "en": "No requests."},
    "a_overdue": {"ja": "期限超過", "en": "Overdue"},
    "a_verified_by": {"ja": "本人確認の方法", "en": "Identity confirmed by"},
    "a_unverified": {"ja": "未確認", "en": "Not confirmed"},
    "a_by_session": {
        "ja": "プライバシーセンターのセッション(サービスの署名付きリンク)",
        "en": "Privacy-center session (the service's signed link)",
    },
    "a_by_service": {"ja": "サービスからの API 経由の請求", "en": "Filed by the service (API)"},
    "a_by_email_code": {"ja": "メールの確認コード", "en": "Code sent by e-mail"},
    "a_subject": {"ja": "本人の ID", "en": "Subject ID"},
    "a_no_subject": {
        "ja": "特定できていません(保有データなし、または複数が該当)",
        "en": "Not identified (no data held, or several match)",
    },
    "a_contact_email": {"ja": "連絡先メールアドレス", "en": "Contact e-mail"},
    "a_agent": {"ja": "代理人", "en": "Agent"},
    "a_proof": {"ja": "代理権の証明書類をダウンロード", "en": "Download the agent's proof"},
    "a_handler": {"ja": "担当者", "en": "Handler"},
    "a_start_review": {"ja": "対応を開始する", "en": "Start the review"},
    "a_decide": {"ja": "決定", "en": "Decision"},
    "a_outcome": {"ja": "結果", "en": "Outcome"},
    "a_reason_help": {
        "ja": "本人に通知されます。対応しない場合・一部のみの場合・代替措置の場合は必須です"
        "(個人情報保護法36条)。",
        "en": "Sent to the person. Required for a refusal, a partial fulfilment and a "
        "substitute measure (APPI Art. 36).",
    },
    "a_reason_required": {
        "ja": "理由を記入してください。対応しない場合・一部のみ対応する場合・代替措置の場合は、"
        "本人に通知する理由が必要です(個人情報保護法36条)。問い合わせには回答を記入してください。",
        "en": "Write the reason. A refusal, a partial fulfilment and a substitute measure need a "
        "reason the person can read (APPI Art. 36); an inquiry needs the answer.",
    },
    "a_fee": {"ja": "手数料", "en": "Fee"},
    "a_yen": {"ja": "{amount} 円", "en": "{amount} yen"},
    "a_substitute": {
        "ja": "代替措置をとった(内容を理由欄に記入)",
        "en": "A substitute measure was taken (describe it as the reason)",
    },
    "a_accepted": {"ja": "対応する項目(選ばない場合はすべて)", "en": "Items acted on (none: all)"},
    "a_withdraw": {
        "ja": "すべての情報を消去し、暗号鍵を破棄する(退会と同じ)",
        "en": "Erase everything and destroy the key (as a withdrawal)",
    },
    "a_save_decision": {"ja": "決定して本人に通知する", "en": "Decide and notify the person"},
    "a_answer": {"ja": "メールで回答する", "en": "Answer by e-mail"},
    "a_close": {"ja": "完了にする", "en": "Close"},
    "a_viewer": {
        "ja": "閲覧のみの権限のため、決定はできません。",
        "en": "Your role may read but not decide.",
    },
    "a_decided": {"ja": "決定し、本人に通知しました。", "en": "Decided; the person is notified."},
    "a_proposed": {"ja": "本人が求める訂正後の内容", "en": "Values the person proposes"},
    "a_card_open": {"ja": "対応中のご請求", "en": "Open requests"},
    "a_card_overdue": {"ja": "うち期限超過 {n} 件", "en": "{n} overdue"},
}


def words(lang: Lang) -> dict[str, str]:
    return {key: value[lang] for key, value in _WORDS.items()}
