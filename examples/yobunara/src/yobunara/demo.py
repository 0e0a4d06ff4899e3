"""``./dev demo``: mamori and Yobunara side by side on the embedded default (SQLite), with the
service key and the webhook secret they share, a privacy manager, demo accounts, and the
dietary item added as a policy change (diff, then publish). Starts afresh in ``.demo/``."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import uvicorn

from mamori.client import Client
from yobunara.people import People
from yobunara.settings import Settings
from yobunara.storage import Store, new_id
from yobunara.web import create_app

__all__ = ["COUPLE", "GUESTS", "run"]

EXAMPLE = Path(__file__).resolve().parents[2]
SEED = EXAMPLE.parent / "kokochie" / "policy.yaml"
VARIANT = EXAMPLE / "policy-dietary.yaml"
PASSWORD = "yobunara-demo-2026"
STAFF_PASSWORD = "mamori-demo-staff-2026"
COUPLE = {
    "name": "山田 花子",
    "email": "hanako@example.jp",
    "address": "東京都港区南青山5-13-1",
    "phone": "090-1234-5678",
}
GUESTS = [
    {"name": "佐藤 一郎", "email": "ichiro@example.jp", "address": "大阪府大阪市北区梅田1-1-1"},
    {"name": "鈴木 美咲", "email": "misaki@example.jp", "address": "福岡県福岡市中央区天神2-2-2"},
]
KEY_SCOPE = ["-p", "service_operation", "-p", "shipping", "-o", "read", "-o", "write"]


def _mamori(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mamori.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"mamori {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("mamori serve stopped; see its output above")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"mamori did not answer at {url} within 60 s")


def seed(settings: Settings, *, before_change: bool) -> None:
    """The demo couple with an invitation and a guest's answer (before the policy change), or
    a second guest who tells their dietary requirements with consent (after it)."""
    store = Store(settings.database)
    with Client(settings.mamori_url, settings.api_key) as client:
        people = People(client)
        if before_change:
            account_id = new_id("acct")
            subject = people.sign_up(account_id, **COUPLE)
            from argon2 import PasswordHasher

            store.add_account(account_id, subject, PasswordHasher().hash(PASSWORD))
            people.set_greeting(
                subject,
                "謹啓 皆様にはお健やかにお過ごしのこととお慶び申し上げます。\n"
                "このたび私たちは結婚式を挙げることになりました。\n"
                "ささやかではございますが、ご出席いただけましたら幸いです。",
            )
            store.save_invitation(
                account_id,
                event_date="2027-04-10",
                event_time="11:00",
                venue="ホテル椿山荘東京",
                design="sakura",
                video_id="aqz-KE-bpKQ",
            )
            guests, dietary = GUESTS[:1], None
        else:
            guests, dietary = GUESTS[1:], people.dietary_version()
        [account] = store.accounts_of(people.subjects_with_email(COUPLE["email"]))
        invitation = store.invitation_of(account.id)
        assert invitation is not None
        for guest in guests:
            answer = new_id("ans")
            guest_subject = people.add_guest(answer, message="おめでとう!", **guest)
            if dietary is not None:
                people.store_dietary(guest_subject, dietary, "えびアレルギー")
            store.add_rsvp(invitation.id, guest_subject, attending=True)


def run(*, mamori_port: int = 8000, port: int = 8001) -> None:
    folder = Path(".demo")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    mamori_url = f"http://127.0.0.1:{mamori_port}"
    site_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "MAMORI_DATA_DIR": str(folder / "mamori"),
        "MAMORI_PORT": str(mamori_port),
        "MAMORI_PUBLIC_URL": mamori_url,
        "MAMORI_CONSENT_ORIGINS": json.dumps([site_url, f"http://localhost:{port}"]),
        "MAMORI_WEBHOOK_ALLOW_HTTP_LOOPBACK": "true",
        "MAMORI_WEBHOOK_DELIVER_SECONDS": "2",
        "MAMORI_LOG_LEVEL": "warning",
    }
    print("mamori: creating the database, the service key and the webhook endpoint ...")
    _mamori(env, "init")
    key = _mamori(env, "keys", "create", "yobunara", *KEY_SCOPE, "-o", "delete")
    secret = _mamori(env, "webhooks", "add", "yobunara", f"{site_url}/mamori/events")
    _mamori(
        env,
        "staff",
        "create",
        "privacy.manager",
        "--role",
        "manager",
        "--name",
        "個人情報保護管理者",
        "--password-stdin",
        stdin=STAFF_PASSWORD + "\n",
    )
    server = subprocess.Popen([sys.executable, "-m", "mamori.cli", "serve"], env=env)
    try:
        _wait(mamori_url, server)
        settings = Settings(
            mamori_url=mamori_url,
            api_key=key,
            webhook_secret=secret,
            database=folder / "yobunara" / "yobunara.db",
            session_secret=secrets.token_urlsafe(32),
        )
        seed(settings, before_change=True)
        print("\nThe policy change that adds the guests' dietary requirements:")
        seed_file, variant_file = (os.path.relpath(p) for p in (SEED, VARIANT))
        print(f"$ mamori policy diff {seed_file} {variant_file}")
        print(_mamori(env, "policy", "diff", seed_file, variant_file))
        print(f"$ mamori policy publish {variant_file}")
        print(_mamori(env, "policy", "publish", variant_file).splitlines()[0])
        seed(settings, before_change=False)
        print(
            f"""
Yobunara (the service):    {site_url}/
  the couple:              {COUPLE["email"]} / {PASSWORD}
  the invitation:          {site_url}/dashboard (after signing in: the guest link)
mamori (privacy):          {mamori_url}/privacy
  privacy center:          {mamori_url}/center
  admin console:           {mamori_url}/admin  privacy.manager / {STAFF_PASSWORD}
                           (the first sign-in sets up an authenticator app)
Data: {folder}/ (started afresh on every ./dev demo). Ctrl-C stops both.
"""
        )
        uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    finally:
        server.terminate()
        server.wait(10)
