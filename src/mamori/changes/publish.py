"""Publishing a policy with its change record: the diff is computed against the version it
replaces, inside the publishing transaction, and stored with the new version."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from mamori.changes import records
from mamori.policy.diff import Level, PolicyDiff, diff_policies
from mamori.policy.loader import LoadedPolicy, parse_policy
from mamori.store import policies

__all__ = ["Published", "publish_policy"]


@dataclass(frozen=True)
class Published:
    result: policies.PublishResult
    diff: PolicyDiff | None
    """The change from the version before; None for the first version or when unchanged."""

    @property
    def level(self) -> Level | None:
        return self.diff.level if self.diff is not None else None


def publish_policy(engine: Engine, loaded: LoadedPolicy, *, actor: str) -> Published:
    """Publish ``loaded`` unless unchanged, classifying and recording the change."""
    found: list[PolicyDiff] = []

    def record(
        conn: Connection,
        version: int,
        previous: policies.PolicyVersion | None,
        published_at: dt.datetime,
    ) -> Mapping[str, str | int | bool | None]:
        if previous is None:
            return {}
        old = parse_policy(previous.source_yaml, f"policy version {previous.version}")
        diff = diff_policies(old, loaded.policy)
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

    result = policies.publish_loaded(engine, loaded, actor=actor, on_publish=record)
    return Published(result, found[0] if found else None)


def report(diff: PolicyDiff, lang: str) -> list[str]:
    """The lines `mamori policy diff` and `mamori policy publish` print."""
    level = diff.level
    if diff.unchanged:
        return ["変更はありません" if lang == "ja" else "no changes"]
    head = "分類" if lang == "ja" else "classification"
    lines = [f"{head}: {level.value} ({level.label(lang)})"]
    lines += [f"- {line}" for line in diff.explain(lang)]
    if diff.consent_uses:
        uses = ", ".join(f"{item} -> {purpose}" for item, purpose in sorted(diff.consent_uses))
        word = "同意が必要な利用 (項目 -> 利用目的)" if lang == "ja" else "uses needing consent"
        lines.append(f"{word}: {uses}")
    if diff.consent_recipients:
        # The words above name them; these are the IDs the change is recorded under.
        word = "同意が必要な提供先(記録 ID)" if lang == "ja" else "recipients needing consent (IDs)"
        lines.append(f"{word}: {', '.join(diff.consent_recipients)}")
    return lines
