"""Publishing a policy: the new version, what it changed and its audit entry, in one transaction.

The diff is computed against the version it replaces, inside the publishing transaction, and
stored with the new version (:mod:`~mamori.publication.records`), so a version never exists
without its classification nor its ``policy.publish`` audit entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mamori.audit.log import AuditLog
from mamori.clock import SYSTEM, Clock, local_date
from mamori.errors import UserInputError
from mamori.i18n import Lang, t
from mamori.policy.diff import Level, PolicyDiff, diff_policies
from mamori.policy.loader import LoadedPolicy, parse_policy, read_policy
from mamori.publication import records, versions
from mamori.store.db import Connection, Engine

__all__ = ["Publication", "publish_file", "publish_policy", "report"]


@dataclass(frozen=True)
class Publication:
    """What publishing did: the version now current, and the change from the one before."""

    result: versions.PublishResult
    diff: PolicyDiff | None
    """The change from the version before; None for the first version or when unchanged."""

    @property
    def level(self) -> Level | None:
        return self.diff.level if self.diff is not None else None


def publish_policy(
    engine: Engine,
    loaded: LoadedPolicy,
    *,
    actor: str,
    audit: AuditLog | None = None,
    clock: Clock = SYSTEM,
    zone: str = "Asia/Tokyo",
) -> Publication:
    """Publish ``loaded`` unless unchanged, classifying and recording the change.

    A change people must be told of before it applies (APPI 27(6): the joint users' purposes,
    the party responsible for a joint use) needs a revision date after the day of publication
    in the operator's ``zone``: the version is published at once, as the advance notice, and the
    joint use goes on as declared before until that day."""
    found: list[PolicyDiff] = []

    def record(
        conn: Connection,
        version: int,
        previous: versions.PolicyVersion | None,
        published_at: dt.datetime,
    ) -> Mapping[str, str | int | bool | None]:
        if previous is None:
            return {}
        old = parse_policy(previous.source_yaml, f"policy version {previous.version}")
        diff = diff_policies(old, loaded.policy)
        today = local_date(published_at, zone)
        if diff.in_advance and loaded.policy.effective_date <= today:
            kinds = ", ".join(dict.fromkeys(c.kind for c in diff.in_advance))
            raise UserInputError(
                f"this version changes the joint use ({kinds}), which people must be told of"
                f" before it applies (APPI 27(6)): give it a revision date after"
                f" {today.isoformat()}, the day it is published"
            )
        records.insert(
            conn,
            version=version,
            previous_version=previous.version,
            diff=diff,
            published_at=published_at,
        )
        found.append(diff)
        return {
            "change_level": diff.level.value,
            "consent_uses": len(diff.consent_uses),
            "consent_recipients": len(diff.consent_recipients),
        }

    result = versions.publish_loaded(
        engine, loaded, actor=actor, on_publish=record, audit=audit, clock=clock
    )
    return Publication(result, found[0] if found else None)


def publish_file(
    engine: Engine,
    path: Path,
    *,
    actor: str,
    audit: AuditLog | None = None,
    clock: Clock = SYSTEM,
    zone: str = "Asia/Tokyo",
) -> Publication:
    """Read the policy file at ``path`` (every mistake reported) and publish it."""
    return publish_policy(
        engine, read_policy(path), actor=actor, audit=audit, clock=clock, zone=zone
    )


def report(diff: PolicyDiff, lang: str) -> list[str]:
    """The lines `mamori policy diff` and `mamori policy publish` print."""
    lang_: Lang = "ja" if lang == "ja" else "en"
    level = diff.level
    if diff.unchanged:
        return [t(lang_, "cli.no_changes")]
    lines = [t(lang_, "cli.classification", level=level.value, label=level.label(lang))]
    lines += [f"- {line}" for line in diff.explain(lang)]
    if diff.consent_uses:
        uses = ", ".join(f"{item} -> {purpose}" for item, purpose in sorted(diff.consent_uses))
        lines.append(t(lang_, "cli.consent_uses", uses=uses))
    if diff.consent_recipients:
        # The words above name them; these are the IDs the change is recorded under.
        recipients = ", ".join(diff.consent_recipients)
        lines.append(t(lang_, "cli.consent_recipients", recipients=recipients))
    return lines
