"""Typed settings, read once from the environment (prefix ``MAMORI_``).

Every setting is documented here and in ``docs/reference/settings.md``; a test keeps the two in
step. Secrets (the master key) are never stored in the database and never logged.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mamori.errors import ConfigError

__all__ = ["REQUEST_TYPES", "Settings", "example_policy_path", "load_settings"]

REQUEST_TYPES: Final = (
    "disclosure",
    "correction",
    "usage_stop",
    "erasure",
    "provision_stop",
    "mail_opt_out",
    "inquiry",
)
"""The names of the request types settings may name (``mamori.requests.model.RequestType``;
a test keeps the two equal)."""


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
    database_pool_size: int = Field(
        default=20,
        ge=1,
        le=200,
        description=(
            "Database connections each server process keeps open; also the number of threads "
            "that serve requests in each process, so that a request never waits for a new "
            "connection to be opened."
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
            "Overrides MASTER_KEY_COMMAND and MASTER_KEY_FILE. Never stored in the database."
        ),
        repr=False,
    )
    master_key_command: str | None = Field(
        default=None,
        description="Command that prints the master keys (one 'VERSION:BASE64KEY' a line), for "
        "a secret manager; run without a shell, once at start. Overrides MASTER_KEY_FILE.",
    )
    master_key_command_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Seconds MASTER_KEY_COMMAND may take before mamori gives up starting.",
    )
    master_key_file: Path | None = Field(
        default=None,
        description=(
            "File holding the master keys, created on first start with owner-only permissions "
            "and refused when group or others may read it. Unset: DATA_DIR/master.key."
        ),
    )
    shred_log: Path | None = Field(
        default=None,
        description="File outside the database where every withdrawal is also written (IDs and "
        "times, an HMAC chain), replayed by `mamori restore`. Unset: DATA_DIR/shred.log.",
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
    time_zone: str = Field(
        default="Asia/Tokyo",
        description="IANA time zone in which pages and mail show times to people.",
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
            "How often the job vault.retention_purge deletes events and items past their "
            "retention, in minutes (0: never; run `mamori vault purge` from a scheduler instead)."
        ),
    )
    smtp_host: str = Field(
        default="",
        description=(
            "SMTP server mamori sends mail through. Empty: mail is kept in the embedded outbox "
            "(shown in the admin console) and never leaves the machine."
        ),
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_tls: Literal["none", "starttls", "tls"] = Field(
        default="starttls",
        description=(
            "How the SMTP connection is encrypted: 'starttls' (upgrade, port 587), 'tls' "
            "(implicit TLS, port 465) or 'none' (a local relay only)."
        ),
    )
    smtp_username: str = Field(
        default="", description="User name for SMTP AUTH. Empty: no authentication."
    )
    smtp_password: SecretStr | None = Field(
        default=None, description="Password for SMTP AUTH. Never stored, never logged."
    )
    smtp_ca_file: Path | None = Field(
        default=None,
        description=(
            "PEM file of the certificate authorities that sign the SMTP server's certificate, "
            "for a private CA. Unset: the system's trusted authorities."
        ),
    )
    smtp_timeout_seconds: int = Field(
        default=30, ge=1, le=600, description="Timeout of one SMTP connection, in seconds."
    )
    mail_from: str = Field(
        default="mamori <mamori@localhost>",
        pattern=r"^[^\r\n]*<?[^\s<>@]+@[^\s<>@]+>?$",
        description="The From address of every mail mamori sends ('Name <address>' or address).",
    )
    mail_templates_dir: Path | None = Field(
        default=None,
        description=(
            "Folder of the operator's mail templates (<template>.<ja|en>.txt); a file there "
            "replaces the packaged template of the same name in that language."
        ),
    )
    mail_max_attempts: int = Field(
        default=8, ge=1, le=100, description="Attempts to deliver one mail before it fails."
    )
    mail_retry_seconds: int = Field(
        default=60,
        ge=1,
        le=86400,
        description=(
            "Wait before the first retry of a mail, doubled after each failed attempt (at most "
            "a day); also how often queued mail is delivered in the background."
        ),
    )
    mail_keep_days: int = Field(
        default=90,
        ge=0,
        description=(
            "Days the outbox keeps a mail (encrypted) after it was sent, failed or kept; "
            "0: forever."
        ),
    )
    task_broker_url: str = Field(
        default="",
        repr=False,
        description=(
            "Celery broker of the task queue: redis://host:6379/0 or amqp://user:pass@host:5672//. "
            "Empty: background work runs inside `mamori serve`."
        ),
    )
    task_queue: str = Field(
        default="mamori",
        pattern=r"^[A-Za-z0-9_.-]{1,100}$",
        description="Name of the broker queue mamori's tasks go through.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Log level of the server."
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="'text' (uvicorn's lines) or 'json' (a JSON object a line, one per request).",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token to scrape /metrics (16+ characters). Unset: /metrics is 404.",
    )
    # -- staff accounts and the admin console (mamori.staff) --
    admin_session_idle_minutes: int = Field(
        default=30,
        ge=5,
        le=1440,
        description="An admin-console session ends after this many minutes without activity.",
    )
    admin_session_max_hours: int = Field(
        default=12,
        ge=1,
        le=168,
        description="An admin-console session ends this many hours after sign-in, active or not.",
    )
    admin_require_totp: bool = Field(
        default=True,
        description=(
            "Every staff member signs in with a TOTP code after the password; one without an "
            "authenticator is taken to enrolment after the password and sees no other page "
            "until enrolled. Off: enrolment is offered on the member's account page."
        ),
    )
    admin_reauth_minutes: int = Field(
        default=10,
        ge=1,
        le=720,
        description=(
            "Sensitive actions (managing staff, recovery codes, resetting an authenticator) "
            "ask for the code again when the member last proved who they are longer ago."
        ),
    )
    admin_lockout_failures: int = Field(
        default=5,
        ge=1,
        le=100,
        description=(
            "Failed sign-ins with one login ID within ADMIN_LOCKOUT_MINUTES that lock it for "
            "ADMIN_LOCKOUT_MINUTES."
        ),
    )
    admin_lockout_client_failures: int = Field(
        default=20,
        ge=1,
        le=10_000,
        description=(
            "Failed sign-ins from one client address within ADMIN_LOCKOUT_MINUTES that lock "
            "that address out for ADMIN_LOCKOUT_MINUTES."
        ),
    )
    admin_lockout_minutes: int = Field(
        default=15,
        ge=1,
        le=1440,
        description="The window in which failed sign-ins count, and how long a lock lasts.",
    )
    # -- people's requests (mamori.requests) --
    request_due_days: dict[str, int] = Field(
        default_factory=dict,
        description=(
            "Days staff have to answer a request, per type, as JSON "
            '(e.g. {"disclosure": 10}); types not named get REQUEST_DEFAULT_DUE_DAYS.'
        ),
    )
    request_default_due_days: int = Field(
        default=14,
        ge=1,
        le=14,
        description="Days staff have to answer a request (APPI 法39: two weeks at most).",
    )
    request_reminder_days: int = Field(
        default=3,
        ge=0,
        le=60,
        description="Remind the handlers this many days before a request is due (0: on the day).",
    )
    request_notify_email: str | None = Field(
        default=None,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="Address of the staff who handle requests: new ones and reminders go there.",
    )
    request_fees: dict[str, int] = Field(
        default_factory=dict,
        description=(
            'Fee per request type in yen, as JSON (e.g. {"disclosure": 1000}); APPI 法38 allows '
            "a fee for disclosure only, so any other type is refused at start."
        ),
    )
    request_proof_max_bytes: int = Field(
        default=5 * 1024 * 1024,
        ge=1024,
        description="Largest agent's proof (power of attorney, ...) a person may upload, in bytes.",
    )
    request_download_days: int = Field(
        default=7,
        ge=1,
        le=90,
        description="Days a disclosure package can be downloaded after the decision.",
    )
    request_download_max: int = Field(
        default=3,
        ge=1,
        le=100,
        description="How many times a disclosure package can be downloaded.",
    )
    request_codes_per_address_hour: int = Field(
        default=5,
        ge=1,
        description="Confirmation codes sent to one e-mail address per hour, at most.",
    )
    request_codes_per_client_hour: int = Field(
        default=20,
        ge=1,
        description="Confirmation codes asked for from one client address per hour, at most.",
    )

    # -- breaches (mamori.incidents) --
    incident_preliminary_days: int = Field(
        default=3,
        ge=3,
        le=5,
        description=(
            "Days after the day of awareness the preliminary report (速報) of a breach is due "
            "(3 to 5: the PPC asks for it promptly, about 3-5 days)."
        ),
    )
    incident_reminder_days: int = Field(
        default=1,
        ge=0,
        le=30,
        description=(
            "Mail the staff member responsible for a breach this many days before each report "
            "is due (0: on the day)."
        ),
    )

    # -- cookie consent (mamori.consent) --
    consent_days: int = Field(
        default=180,
        ge=1,
        le=3650,
        description=(
            "Days a cookie choice lasts; the banner asks again after them (and whenever the "
            "policy's cookie section changes)."
        ),
    )
    consent_origins: list[str] = Field(
        default_factory=list,
        description=(
            "Origins of the sites that include the banner from this server, as JSON "
            '(e.g. ["https://www.example.jp"]): they may read its settings and record choices. '
            "mamori's own origin is always allowed."
        ),
    )

    # -- access anomalies (mamori.anomalies) --
    anomaly_evaluate_minutes: int = Field(
        default=5,
        ge=0,
        le=1440,
        description="How often the job anomalies.evaluate reads new audit entries (0: off).",
    )
    anomaly_window_minutes: int = Field(
        default=60,
        ge=5,
        le=1440,
        description="Length of the window the anomaly rules count in, in minutes.",
    )
    anomaly_volume_min: int = Field(
        default=50,
        ge=1,
        description="People one key or staff member may read in a window before its usual "
        "volume is compared at all.",
    )
    anomaly_volume_factor: int = Field(
        default=3,
        ge=1,
        le=1000,
        description="An alert when a reader reads more people in a window than this times its "
        "median over the previous windows (and more than ANOMALY_VOLUME_MIN).",
    )
    anomaly_baseline_windows: int = Field(
        default=24,
        ge=1,
        le=1000,
        description="How many previous windows a reader's median volume is taken over.",
    )
    anomaly_hours_start: int = Field(
        default=7,
        ge=0,
        le=23,
        description="Hour (operator's time zone) from which reads are usual.",
    )
    anomaly_hours_end: int = Field(
        default=21,
        ge=0,
        le=24,
        description="Hour (operator's time zone) at which usual hours end; before the start "
        "hour: usual hours run across midnight. Equal to the start: no hour is unusual.",
    )
    anomaly_refusal_burst: int = Field(
        default=10,
        ge=1,
        description="Refused reads (purpose_not_allowed, key_not_granted) by one reader in a "
        "window that raise an alert.",
    )
    anomaly_export_max: int = Field(
        default=5,
        ge=1,
        description="Bulk exports (disclosure packages, ledger and receipt CSVs, bulk reads) "
        "by one actor in a window beyond which an alert is raised.",
    )

    # -- webhooks to the host service (mamori.webhooks) --
    webhook_deliver_seconds: int = Field(
        default=5,
        ge=0,
        le=3600,
        description="How often the job webhooks.deliver turns new audit entries into events "
        "and sends what is due (0: off).",
    )
    webhook_retry_schedule: list[int] = Field(
        default=[5, 300, 1800, 7200, 18000, 36000, 36000],
        min_length=0,
        max_length=20,
        description="Seconds to wait before each retry of a failed webhook delivery (JSON list; "
        "the Standard Webhooks schedule by default: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h). "
        "After the last, the delivery is failed; staff may replay it.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=60,
        description="Seconds a webhook receiver has to answer one delivery.",
    )
    webhook_allow_http_loopback: bool = Field(
        default=False,
        description="Allow http:// webhook URLs to a loopback address (127.0.0.1, ::1, "
        "localhost), for a receiver on the same machine or in tests; otherwise https only.",
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

    @field_validator("metrics_token")
    @classmethod
    def _check_metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < 16:
            raise ValueError("give at least 16 characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("time_zone")
    @classmethod
    def _check_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (for example Asia/Tokyo)") from None
        return value

    @field_validator("request_fees")
    @classmethod
    def _check_fees(cls, value: dict[str, int]) -> dict[str, int]:
        for name, amount in value.items():
            if name not in REQUEST_TYPES:
                raise ValueError(f"unknown request type {name!r}")
            if name != "disclosure":
                raise ValueError(
                    f"a fee may be set for disclosure only (APPI 法38), not for {name!r}"
                )
            if amount < 0:
                raise ValueError("a fee cannot be negative")
        return value

    @field_validator("request_due_days")
    @classmethod
    def _check_due_days(cls, value: dict[str, int]) -> dict[str, int]:
        for name, days in value.items():
            if name not in REQUEST_TYPES:
                raise ValueError(f"unknown request type {name!r}")
            if not 1 <= days <= 14:
                # APPI 法39: two weeks after a request arrives, the person may go to court.
                raise ValueError(f"{name}: give 1 to 14 days (APPI 法39: two weeks at most)")
        return value

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _check_schedule(cls, value: list[int]) -> list[int]:
        if any(not 0 <= n <= 86400 for n in value):
            raise ValueError("each wait is 0 to 86400 seconds")
        return value

    @field_validator("consent_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", origin):
                raise ValueError(
                    f"{origin[:80]!r} is not an origin: give scheme and host, e.g. "
                    "https://www.example.jp (no path, no trailing slash)"
                )
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
    def effective_shred_log(self) -> Path:
        return self.shred_log if self.shred_log is not None else self.data_dir / "shred.log"

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
