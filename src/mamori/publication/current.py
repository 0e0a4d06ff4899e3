"""The published policy as the running process sees it: parsed and compiled once per version.

Every vault call asks for the current rules. A process checks the database for a newer version
at most once per ``ttl`` seconds, so a publication reaches every process within that time; a
publication made through this process is seen at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from mamori.clock import SYSTEM, Clock
from mamori.errors import PolicyNotPublished
from mamori.policy.loader import parse_policy
from mamori.policy.model import Policy
from mamori.policy.rules import Rules, compile_rules
from mamori.publication import storage, versions
from mamori.publication.records import consent_changes
from mamori.store import db
from mamori.store.db import Engine

__all__ = ["CurrentPolicy", "PublishedPolicy"]


@dataclass(frozen=True)
class CurrentPolicy:
    """The version a process enforces: its number, its declaration and its read rules."""

    version: int
    policy: Policy
    rules: Rules


class PublishedPolicy:
    """The current version of ``engine``'s database, re-checked at most every ``ttl`` seconds."""

    def __init__(
        self, engine: Engine, ttl: float = 1.0, *, clock: Clock = SYSTEM, zone: str = "Asia/Tokyo"
    ) -> None:
        self.engine = engine
        self.zone = zone
        self.clock = clock
        self.ttl = ttl
        self._lock = threading.Lock()
        self._current: CurrentPolicy | None = None
        self._checked = 0.0

    def invalidate(self) -> None:
        self._checked = 0.0

    def current(self) -> CurrentPolicy:
        now = self.clock.monotonic()
        cached = self._current
        if cached is not None and now - self._checked < self.ttl:
            return cached
        with self._lock:
            with db.read(self.engine) as conn:
                latest = storage.latest_version_number(conn)
            if latest is None:
                raise PolicyNotPublished()
            if self._current is None or self._current.version != latest:
                version = versions.get(self.engine, latest)
                policy = parse_policy(version.source_yaml, f"policy version {version.version}")
                with db.read(self.engine) as conn:
                    gates = [g for g in consent_changes(conn) if g.version <= latest]
                previous = None
                if version.version > 1:
                    before = versions.get(self.engine, version.version - 1)
                    previous = parse_policy(before.source_yaml, f"policy version {before.version}")
                rules = compile_rules(
                    policy, version.version, gates, previous=previous, zone=self.zone
                )
                self._current = CurrentPolicy(version.version, policy, rules)
            self._checked = self.clock.monotonic()
            return self._current

    def rules(self) -> Rules:
        return self.current().rules
