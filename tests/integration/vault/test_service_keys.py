"""Service accounts: keys shown once, stored hashed, scoped, revocable at once."""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from mamori.audit import AuditLog
from mamori.clock import SYSTEM
from mamori.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    PolicyNotPublished,
    UnknownPurpose,
    UserInputError,
)
from mamori.policy.loader import read_policy
from mamori.publication import versions
from mamori.store import tables
from mamori.vault import service_keys
from mamori.vault.service_keys import OPERATIONS, ServiceAccount
from tests.helpers.cli import mamori
from tests.helpers.clock import ManualClock
from tests.helpers.paths import ROOT
from tests.helpers.runtime import open_test_runtime

EXAMPLE = ROOT / "examples" / "kokochie" / "policy.yaml"
TOKEN = re.compile(r"mamori_(mk_[a-z2-7]{10})_([A-Za-z0-9_-]{43})")
_keys = tables.service_keys


@pytest.fixture
def audit(engine: Engine) -> AuditLog:
    loaded = read_policy(EXAMPLE)
    versions.publish_loaded(engine, loaded, actor="cli")
    return AuditLog(engine)


def _create(
    engine: Engine,
    audit: AuditLog,
    purposes: tuple[str, ...] = ("service_operation", "campaigns"),
    operations: tuple[str, ...] = ("read", "write"),
) -> tuple[ServiceAccount, str]:
    return service_keys.create(
        engine, audit, name="crm sync", purposes=purposes, operations=operations, actor="cli"
    )


def test_create_returns_the_token_once_and_stores_only_its_hash(
    engine: Engine, audit: AuditLog, database_url: str
) -> None:
    account, token = _create(engine, audit)
    match = TOKEN.fullmatch(token)
    assert match is not None and match[1] == account.id
    secret = match[2]
    assert account.purposes == {"service_operation", "campaigns"}
    assert account.operations == {"read", "write"}
    assert account.actor_id == f"key:{account.id}" and not account.revoked
    with engine.connect() as conn:
        row = conn.execute(sa.select(_keys).where(_keys.c.id == account.id)).one()
    stored = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row)
    raw = base64.urlsafe_b64decode(secret + "=")
    for needle in (secret.encode(), raw, token.encode(), secret[:16].encode(), raw[:16]):
        assert needle not in stored
    if database_url.startswith("sqlite"):
        assert secret.encode() not in Path(database_url.removeprefix("sqlite:///")).read_bytes()
    entry = audit.tail(1)[0]
    assert (entry.actor, entry.action, entry.targets) == (
        "cli",
        "service_key.create",
        (f"key:{account.id}",),
    )
    assert entry.details == {"purposes": "campaigns.service_operation", "operations": "read.write"}


def test_every_key_is_different(engine: Engine, audit: AuditLog) -> None:
    tokens = {_create(engine, audit)[1] for _ in range(5)}
    assert len({TOKEN.fullmatch(t)[1] for t in tokens}) == 5  # type: ignore[index]


def test_authenticate(engine: Engine, audit: AuditLog) -> None:
    account, token = _create(engine, audit)
    assert service_keys.authenticate(engine, token) == account
    assert service_keys.authenticate(engine, token) == account  # from the cache
    assert service_keys.cached(engine, token) == account


def _tamper(token: str) -> str:
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_tamper, "not valid"),
        (lambda t: t[:-1], "not a mamori API key"),
        (lambda t: t + "x", "not a mamori API key"),
        (lambda t: "Bearer " + t, "not a mamori API key"),
        (lambda t: "", "not a mamori API key"),
        (lambda t: "mamori_mk_aaaaaaaaaa_" + t[-43:], "not valid"),  # unknown id
        (lambda t: t[:10] + ("b" if t[10] != "b" else "c") + t[11:], "not valid"),  # other id
    ],
)
def test_bad_tokens_fail_without_echoing_them(
    engine: Engine, audit: AuditLog, make: object, message: str
) -> None:
    _, token = _create(engine, audit)
    service_keys.authenticate(engine, token)  # the right key is cached: no help to the others
    bad = make(token)  # type: ignore[operator]
    with pytest.raises(AuthenticationFailed, match=message) as caught:
        service_keys.authenticate(engine, bad)
    secret = token[-43:]
    assert secret not in str(caught.value) and secret[:8] not in str(caught.value)
    assert service_keys.cached(engine, bad) is None


def test_revocation_takes_effect_at_once(engine: Engine, audit: AuditLog) -> None:
    account, token = _create(engine, audit)
    other, other_token = _create(engine, audit)
    service_keys.authenticate(engine, token)  # cached now
    revoked = service_keys.revoke(engine, audit, account.id, actor="cli")
    assert revoked.revoked_at is not None and revoked.id == account.id
    with pytest.raises(AuthenticationFailed, match=f"'{account.id}' was revoked"):
        service_keys.authenticate(engine, token)
    assert service_keys.authenticate(engine, other_token) == other
    entry = audit.tail(1)[0]
    assert (entry.action, entry.targets) == ("service_key.revoke", (f"key:{account.id}",))
    listed = {a.id: a for a in service_keys.list_keys(engine)}
    assert listed[account.id].revoked_at == revoked.revoked_at
    assert listed[other.id].revoked_at is None


def test_revocation_by_another_process_takes_effect_within_the_ttl(
    engine: Engine, audit: AuditLog, clock: ManualClock
) -> None:
    account, token = _create(engine, audit)
    service_keys.authenticate(engine, token, clock=clock)
    with engine.begin() as conn:  # what `mamori keys revoke` in another process writes
        conn.execute(
            sa.update(_keys)
            .where(_keys.c.id == account.id)
            .values(revoked_at=dt.datetime.now(dt.UTC))
        )
    assert service_keys.authenticate(engine, token, clock=clock) == account  # still cached
    clock.advance(seconds=service_keys.CACHE_TTL + 0.01)
    with pytest.raises(AuthenticationFailed, match="revoked"):
        service_keys.authenticate(engine, token, clock=clock)


def test_an_account_read_before_a_revocation_is_not_cached_after_it(
    engine: Engine, audit: AuditLog
) -> None:
    account, token = _create(engine, audit)
    cache = service_keys._cache
    generation = cache.generation  # authenticate() read the row here ...
    service_keys.revoke(engine, audit, account.id, actor="cli")  # ... a revocation came ...
    digest = service_keys._parse(token)[1]
    now = SYSTEM.monotonic()
    cache.put(engine, account.id, digest, account, generation, now)  # ... then it tried to cache
    assert service_keys.cached(engine, token) is None


def test_revoke_errors(engine: Engine, audit: AuditLog) -> None:
    account, token = _create(engine, audit)
    with pytest.raises(NotFound, match="'mk_aaaaaaaaaa' does not exist"):
        service_keys.revoke(engine, audit, "mk_aaaaaaaaaa", actor="cli")
    with pytest.raises(UserInputError, match="not a key id") as caught:
        service_keys.revoke(engine, audit, "my secret key", actor="cli")
    assert "secret" not in str(caught.value)
    service_keys.revoke(engine, audit, token, actor="cli")  # the full key names it too
    with pytest.raises(Conflict, match=f"'{account.id}' was already revoked on .* UTC"):
        service_keys.revoke(engine, audit, account.id, actor="cli")


@pytest.mark.parametrize(
    ("purpose", "message"),
    [
        ("campains", "unknown purpose 'campains' (did you mean 'campaigns'?)"),
        ("servce_operation", "(did you mean 'service_operation'?)"),
        ("xyz", "unknown purpose 'xyz'; the published policy declares service_operation, "),
        ("メール", "unknown purpose (not an id); the published policy declares "),
    ],
)
def test_unknown_purpose_names_the_nearest(
    engine: Engine, audit: AuditLog, purpose: str, message: str
) -> None:
    with pytest.raises(UnknownPurpose) as caught:
        _create(engine, audit, purposes=("shipping", purpose))
    assert message in str(caught.value)
    assert service_keys.list_keys(engine) == []


def test_purposes_of_the_current_policy_only(engine: Engine) -> None:
    with pytest.raises(PolicyNotPublished):
        _create(engine, AuditLog(engine))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"operations": ("read", "admin")}, "unknown operation 'admin': use read, write or delete"),
        ({"operations": ()}, "at least one operation"),
        ({"purposes": ()}, "at least one purpose"),
        ({"name": ""}, "1 to 100 printable characters"),
        ({"name": "   "}, "1 to 100 printable characters"),
        ({"name": "a\nb"}, "1 to 100 printable characters"),
        ({"name": "x" * 101}, "1 to 100 printable characters"),
    ],
)
def test_bad_input(
    engine: Engine, audit: AuditLog, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {
        "name": "crm",
        "purposes": ("shipping",),
        "operations": ("read",),
        "actor": "cli",
    }
    with pytest.raises(UserInputError, match=re.escape(message)):
        service_keys.create(engine, audit, **{**args, **kwargs})  # type: ignore[arg-type]
    assert service_keys.list_keys(engine) == []


def test_defaults_names_and_many_purposes(engine: Engine, audit: AuditLog) -> None:
    account, _ = service_keys.create(
        engine, audit, name="配送 [bold]システム", purposes=["shipping", "shipping"], actor="cli"
    )
    assert account.operations == {"read"} and account.purposes == {"shipping"}
    assert service_keys.list_keys(engine)[0].name == "配送 [bold]システム"
    every = read_policy(EXAMPLE).policy.purposes
    many, _ = _create(engine, audit, purposes=tuple(p.id for p in every))
    details = audit.tail(1)[0].details
    assert len(many.purposes) == len(every) > 10
    packed = [str(details[k]) for k in sorted(details) if k.startswith("purposes")]
    assert len(packed) > 1 and all(len(chunk) <= 128 for chunk in packed)
    assert set(".".join(packed).split(".")) == many.purposes


@pytest.mark.parametrize("granted", [("read",), ("write",), ("delete",), ("read", "delete")])
def test_permission_per_operation(engine: Engine, audit: AuditLog, granted: tuple[str]) -> None:
    account, _ = _create(engine, audit, operations=granted)
    for operation in OPERATIONS:
        if operation in granted:
            account.require(operation)
        else:
            with pytest.raises(PermissionDenied, match=f"key '{account.id}' may not {operation}"):
                account.require(operation)


# -- the CLI, as a user runs it -----------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> Iterator[dict[str, str]]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    clean.update(MAMORI_DATA_DIR=str(tmp_path / "data"), MAMORI_DATABASE_URL=database_url)
    yield clean


def test_cli_create_prints_the_key_and_nothing_else(
    env: dict[str, str], tmp_path: Path, database_url: str
) -> None:
    open_test_runtime(tmp_path, database_url).close()  # what `mamori init` does, in-process
    created = mamori(
        "keys", "create", "crm sync", "--purpose", "campaigns", "-p", "shipping",
        "--operation", "read", "--operation", "write", env=env,
    )  # fmt: skip
    match = TOKEN.fullmatch(created.stdout.removesuffix("\n"))
    assert match is not None and created.stdout.endswith("\n"), created.stdout
    key_id = match[1]
    assert key_id in created.stderr and match[2] not in created.stderr

    listed = mamori("keys", "list", env=env).stdout.splitlines()
    assert listed[0].split("\t") == [
        "id", "name", "purposes", "operations", "created", "revoked", "contractor",
    ]  # fmt: skip
    fields = listed[1].split("\t")
    assert fields[:4] == [key_id, "crm sync", "campaigns,shipping", "read,write"]
    assert fields[5] == fields[6] == "-" and match[2] not in "\n".join(listed)

    assert f"revoked key {key_id}" in mamori("keys", "revoke", key_id, env=env).stdout
    again = mamori("keys", "revoke", key_id, env=env, check=2)
    assert again.stderr.count("\n") == 1 and "already revoked" in again.stderr

    bad = mamori("keys", "create", "x", "--purpose", "campains", env=env, check=2)
    assert bad.stdout == ""
    assert bad.stderr == "mamori: unknown purpose 'campains' (did you mean 'campaigns'?)\n"
