"""Yobunara's settings, from ``YOBUNARA_*`` environment variables (``./dev demo`` sets them)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    mamori_url: str
    """mamori's base URL as the service reaches it (the API is under ``/api/v1``)."""
    api_key: str
    """The service key (``mamori keys create yobunara ...``): a secret."""
    webhook_secret: str
    """The endpoint's ``whsec_...`` secret (``mamori webhooks add yobunara URL``)."""
    database: Path
    """The service's own SQLite file: subject ids and data about no one."""
    session_secret: str
    """Signs the session and guest cookies."""
    mamori_public_url: str = ""
    """mamori's URL as browsers reach it (the banner, the policy); default ``mamori_url``."""
    dietary_item: str = "dietary"
    """The policy item of the guests' dietary requirements (policy-dietary.yaml)."""

    @property
    def browser_mamori_url(self) -> str:
        return (self.mamori_public_url or self.mamori_url).rstrip("/")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings; a missing required one is named in the error."""
        env = os.environ if env is None else env
        missing = [
            name
            for name in ("YOBUNARA_MAMORI_URL", "YOBUNARA_API_KEY", "YOBUNARA_WEBHOOK_SECRET")
            if not env.get(name)
        ]
        if missing:
            raise SystemExit(f"yobunara: set {', '.join(missing)} (./dev demo does it for you)")
        return cls(
            mamori_url=env["YOBUNARA_MAMORI_URL"],
            api_key=env["YOBUNARA_API_KEY"],
            webhook_secret=env["YOBUNARA_WEBHOOK_SECRET"],
            database=Path(env.get("YOBUNARA_DATABASE", "yobunara-data/yobunara.db")),
            session_secret=env.get("YOBUNARA_SESSION_SECRET") or secrets.token_urlsafe(32),
            mamori_public_url=env.get("YOBUNARA_MAMORI_PUBLIC_URL", ""),
        )
