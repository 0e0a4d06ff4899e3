"""Opening mamori: the database, its migrations, the master keys and the published policy.

The first start on the embedded default creates everything a new user needs: the data folder,
the SQLite database with every migration applied, a master-key file with owner-only permissions,
and the example policy published as version 1. Every step that changes something is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mamori.app.parts import BUILT_IN, Parts
from mamori.audit.log import AuditLog
from mamori.clock import SYSTEM, Clock
from mamori.config import Settings
from mamori.errors import KeyFileError, PolicyNotPublished
from mamori.keyring import MasterKeys, create_key_file, parse_keys, run_key_command
from mamori.mail.mailer import Mailer
from mamori.policy.loader import LoadedPolicy, read_policy
from mamori.publication import versions
from mamori.publication.current import PublishedPolicy
from mamori.publication.publish import Publication, publish_policy
from mamori.store import db
from mamori.store.db import Engine
from mamori.vault.core import Limits, Vault
from mamori.vault.crypto import MasterKeySource
from mamori.vault.key_file import ReloadingKeys
from mamori.vault.shred_log import ShredLog

if TYPE_CHECKING:
    from mamori.requests.effects import Correction, RequestErasure, RequestStop
    from mamori.requests.sections import Section

__all__ = ["Runtime", "fixed_master_keys", "load_master_keys", "open_runtime"]


@dataclass(frozen=True)
class Runtime:
    """What a running mamori holds: settings, the database engine, the audit log, the keys,
    the clock everything measures time against, and the built-in parts it loaded.

    Domain code never imports this class: each domain names what it needs as a protocol (for
    example :class:`mamori.requests.context.RequestContext`), which a runtime satisfies.
    """

    settings: Settings
    engine: Engine
    audit: AuditLog
    keys: MasterKeySource
    clock: Clock = SYSTEM
    parts: Parts = BUILT_IN
    published: PublishedPolicy = field(init=False)
    vault: Vault = field(init=False)
    mail: Mailer = field(init=False)

    def __post_init__(self) -> None:
        published = PublishedPolicy(self.engine, clock=self.clock, zone=self.settings.time_zone)
        object.__setattr__(self, "published", published)
        limits = Limits(
            max_value_bytes=self.settings.max_value_bytes,
            max_document_bytes=self.settings.max_document_bytes,
            blind_index_bits=Vault.bits_for(self.settings.blind_index_population),
        )
        vault = Vault(
            self.engine,
            self.audit,
            self.keys,
            published.rules,
            limits,
            clock=self.clock,
            erasures=self.parts.erasures,
            entrustment=self.parts.entrustment,
            time_zone=self.settings.time_zone,
            shred_log=ShredLog(self.settings.effective_shred_log, self.keys),
        )
        object.__setattr__(self, "vault", vault)
        mail = Mailer(
            self.settings,
            self.engine,
            self.audit,
            vault.system_keys,
            self._operator,
            clock=self.clock,
            vault=vault,
        )
        object.__setattr__(self, "mail", mail)

    @property
    def corrections(self) -> tuple[Correction, ...]:
        """Where else a granted correction is written, of the loaded parts."""
        return self.parts.corrections

    @property
    def request_erasures(self) -> tuple[RequestErasure, ...]:
        """Where else a granted erasure is carried out, of the loaded parts."""
        return self.parts.request_erasures

    @property
    def request_stops(self) -> tuple[RequestStop, ...]:
        """Where else a granted usage or provision stop is recorded, of the loaded parts."""
        return self.parts.request_stops

    @property
    def sections(self) -> tuple[Section, ...]:
        """The disclosure-package sections of the loaded parts."""
        return self.parts.sections

    def publish(self, loaded: LoadedPolicy, *, actor: str) -> Publication:
        """Publish a policy read by :func:`~mamori.policy.loader.read_policy`, classifying and
        recording the change; this process sees the new version at once."""
        published = publish_policy(
            self.engine,
            loaded,
            actor=actor,
            audit=self.audit,
            clock=self.clock,
            zone=self.settings.time_zone,
        )
        self.published.invalidate()
        return published

    def publish_file(self, path: Path, *, actor: str) -> versions.PublishResult:
        """Publish the policy file at ``path`` (see :meth:`publish`)."""
        return self.publish(read_policy(path), actor=actor).result

    def _operator(self, lang: str) -> str:
        """The operator's name in ``lang`` (mail templates sign with it)."""
        try:
            return self.published.current().policy.operator.name.get(lang)
        except PolicyNotPublished:
            return "mamori"

    def close(self) -> None:
        self.mail.close()
        self.vault.close()
        self.engine.dispose()


def load_master_keys(settings: Settings, *, create: bool) -> tuple[MasterKeySource, bool]:
    """The master keys from MAMORI_MASTER_KEY, MAMORI_MASTER_KEY_COMMAND or the key file, in
    that order; (keys, created now).

    Keys from a file are re-read when it changes, so that a server keeps decrypting after
    `mamori keys rotate` (in another process) added a version and rewrapped data keys with it.
    Keys from MAMORI_MASTER_KEY or the command are fixed: restart after adding a version.
    """
    fixed = fixed_master_keys(settings)
    if fixed is not None:
        return fixed, False
    path = settings.effective_master_key_file
    if path.exists():
        return ReloadingKeys(path), False
    if not create:
        raise KeyFileError(
            f"{path}: master-key file not found; set MAMORI_MASTER_KEY or run `mamori init`"
        )
    create_key_file(path)
    return ReloadingKeys(path), True


def fixed_master_keys(settings: Settings) -> MasterKeys | None:
    """The keys MAMORI_MASTER_KEY gives or MAMORI_MASTER_KEY_COMMAND prints; None: neither
    is set (the key file holds them)."""
    if settings.master_key:
        return parse_keys(settings.master_key, "MAMORI_MASTER_KEY")
    if settings.master_key_command:
        return run_key_command(
            settings.master_key_command, timeout=settings.master_key_command_timeout_seconds
        )
    return None


def open_runtime(
    settings: Settings,
    *,
    initialise: bool = True,
    actor: str = "system",
    clock: Clock = SYSTEM,
    parts: Parts = BUILT_IN,
) -> Runtime:
    """Connect and migrate; with ``initialise``, also create the key file and publish a policy.

    On PostgreSQL a missing master key is an error rather than a new key: a production database
    must never start encrypting under a key nobody has backed up. ``mamori init`` creates one
    explicitly.
    """
    if settings.is_embedded and not settings.data_dir.exists():
        # Owner-only: the folder holds the database and, by default, the master-key file.
        settings.data_dir.mkdir(parents=True, mode=0o700)
    engine = db.create_engine(
        settings.effective_database_url, pool_size=settings.database_pool_size
    )
    try:
        db.check_connection(engine)
        db.migrate(engine)
        audit = AuditLog(engine, clock=clock)
        keys, created = load_master_keys(settings, create=initialise and settings.is_embedded)
        runtime = Runtime(settings, engine, audit, keys, clock, parts)
        if created:
            with db.write(engine) as conn:
                audit.append(
                    conn,
                    actor=actor,
                    action="keys.master.create",
                    targets=[f"master-key:{keys.current_version}"],
                    details={"origin": "key-file"},
                )
        if initialise and versions.current(engine) is None:
            runtime.publish_file(settings.effective_policy_path, actor=actor)
    except BaseException:
        engine.dispose()
        raise
    return runtime
