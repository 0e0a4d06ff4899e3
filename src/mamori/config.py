"""Typed settings, read once from the environment (prefix ``MAMORI_``).

Every setting is documented here and in ``docs/reference/settings.md``; a test keeps the two in
step. Secrets (the master key) are never stored in the database and never logged.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mamori.errors import ConfigError

__all__ = ["Settings", "example_policy_path", "load_settings"]


def example_policy_path() -> Path:
    """The worked example (株式会社ココチエ) shipped with mamori."""
    packaged = Path(__file__).parent / "examples" / "kokochie" / "policy.yaml"
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "examples" / "kokochie" / "policy.yaml"


class Settings(BaseSettings):
    """mamori's settings. Each field maps to the environment variable ``MAMORI_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="MAMORI_", extra="ignore", frozen=True)

    data_dir: Path = Field(
        default=Path("mamori-data"),
        description="Folder for the embedded SQLite database and the local master-key file.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the database. Unset: SQLite at DATA_DIR/mamori.db. "
            "PostgreSQL: postgresql+psycopg://user@host:5432/dbname."
        ),
    )
    policy: Path | None = Field(
        default=None,
        description=(
            "Policy file published on first start when no policy is published yet. "
            "Unset: the worked example examples/kokochie/policy.yaml."
        ),
    )
    master_key: str | None = Field(
        default=None,
        description=(
            "Master keys as 'VERSION:BASE64KEY' pairs separated by commas (32-byte keys). "
            "Overrides MASTER_KEY_FILE. Never stored in the database."
        ),
        repr=False,
    )
    master_key_file: Path | None = Field(
        default=None,
        description=(
            "File holding the master keys, created on first start with owner-only permissions. "
            "Unset: DATA_DIR/master.key."
        ),
    )
    public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description=(
            "The address people reach mamori at (e.g. https://privacy.example.jp), used in the "
            "links mamori hands out. Unset: the address the request came in on."
        ),
    )
    host: str = Field(default="127.0.0.1", description="Address `mamori serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `mamori serve` listens on.")
    default_language: Literal["ja", "en"] = Field(
        default="ja", description="Language of pages when the request expresses no preference."
    )
    max_value_bytes: int = Field(
        default=64 * 1024,
        ge=256,
        description="Largest value of one data item, in bytes of its JSON form (documents apart).",
    )
    max_document_bytes: int = Field(
        default=5 * 1024 * 1024,
        ge=1024,
        description="Largest document (identity-document image, PDF), in bytes after base64.",
    )
    blind_index_population: int = Field(
        default=1_000_000,
        ge=2,
        description=(
            "Expected number of people; sizes the blind indexes so each lookup returns a few "
            "false candidates (CipherSweet rule). Fixed once data is stored."
        ),
    )
    center_link_minutes: int = Field(
        default=10,
        ge=1,
        le=1440,
        description="How long a signed link into the privacy center stays valid, in minutes.",
    )
    center_session_minutes: int = Field(
        default=30,
        ge=5,
        le=1440,
        description="How long a privacy-center session lasts without activity, in minutes.",
    )
    retention_purge_minutes: int = Field(
        default=60,
        ge=0,
        description=(
            "How often the server deletes events and items past their retention, in minutes "
            "(0: never; run `mamori vault purge` from a scheduler instead)."
        ),
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Log level of the server."
    )

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError(
                "must start with sqlite: or postgresql+psycopg: "
                "(for example postgresql+psycopg://mamori@127.0.0.1:5432/mamori)"
            )
        if value.startswith("postgresql:"):
            value = "postgresql+psycopg:" + value.removeprefix("postgresql:")
        return value

    @cached_property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'mamori.db').resolve()}"

    @property
    def is_embedded(self) -> bool:
        return self.effective_database_url.startswith("sqlite:")

    @property
    def effective_policy_path(self) -> Path:
        return self.policy if self.policy is not None else example_policy_path()

    @property
    def effective_master_key_file(self) -> Path:
        if self.master_key_file is not None:
            return self.master_key_file
        return self.data_dir / "master.key"


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a bad value into one clear :class:`ConfigError`."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "MAMORI_" + "_".join(str(p) for p in err["loc"]).upper()
        raise ConfigError(f"{name}: {err['msg']}") from None
