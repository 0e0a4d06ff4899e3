"""`mamori webhooks` as a user runs it: the secret on standard output once, the list without
it, one line for each mistake, a failed delivery replayed."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.cli import mamori
from tests.helpers.runtime import open_test_runtime


def test_register_list_rotate_remove(
    env: dict[str, str], tmp_path: Path, database_url: str
) -> None:
    open_test_runtime(tmp_path, database_url).close()  # what `mamori init` does, in-process
    env = {**env, "MAMORI_WEBHOOK_ALLOW_HTTP_LOOPBACK": "true"}
    mamori("keys", "create", "shop", "-p", "service_operation", env=env)
    added = mamori(
        "webhooks", "add", "shop", "http://127.0.0.1:9/hooks", "-e", "subject.withdrawn", env=env
    )
    secret = added.stdout.strip()
    assert secret.startswith("whsec_") and "\n" not in secret
    endpoint_id = added.stderr.split("registered endpoint ")[1].split()[0]
    listed = mamori("webhooks", "list", env=env).stdout
    assert endpoint_id in listed and "subject.withdrawn" in listed
    assert secret not in listed
    rotated = mamori("webhooks", "rotate", endpoint_id, env=env).stdout.strip()
    assert rotated.startswith("whsec_") and rotated != secret
    assert mamori("webhooks", "deliveries", env=env).stdout.startswith("id\t")
    mamori("webhooks", "remove", endpoint_id, env=env)
    assert endpoint_id not in mamori("webhooks", "list", env=env).stdout


def test_mistakes_are_one_line(env: dict[str, str], tmp_path: Path, database_url: str) -> None:
    open_test_runtime(tmp_path, database_url).close()
    mamori("keys", "create", "shop", "-p", "service_operation", env=env)
    cases = [
        (["add", "shop", "http://127.0.0.1:9/hooks"], "MAMORI_WEBHOOK_ALLOW_HTTP_LOOPBACK"),
        (["add", "shop", "http://example.jp/hooks"], "must be https://"),
        (["add", "shop", "https://u:p@example.jp/"], "user name or password"),
        (["add", "shop", "https://example.jp/", "-e", "nope"], "unknown event type 'nope'"),
        (["add", "nobody", "https://example.jp/"], "not the name of a live service key"),
        (["rotate", "wh_none"], "no webhook endpoint"),
        (["remove", "wh_none"], "no webhook endpoint"),
        (["replay", "msg_none"], "no webhook delivery"),
    ]
    for args, words in cases:
        ran = mamori("webhooks", *args, env=env, check=2)
        assert ran.stderr.count("\n") == 1, ran.stderr
        assert words in ran.stderr, (args, ran.stderr)
        assert ran.stdout == ""
