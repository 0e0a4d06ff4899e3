"""The built-in parts mamori loads at start, in web and worker processes alike.

One explicit list instead of registration by import: the periodic jobs (run by
:mod:`mamori.tasks`, in-process on the embedded default and on Celery beat in production),
the sections of the disclosure package that other domains contribute, and the register of
contractors that the vault consults for a contractor's key. A
:class:`~mamori.app.runtime.Runtime` holds the :class:`Parts` it was opened with
(:data:`BUILT_IN` unless a caller, such as a test, gives others).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from mamori.anomalies import evaluate as anomalies
from mamori.center import access as center_access
from mamori.changes import disclosure as change_disclosure
from mamori.changes.notices import JOB as NOTICES_JOB
from mamori.changes.notices import send_notices
from mamori.config import Settings
from mamori.consent import disclosure as consent_disclosure
from mamori.contractors import register as contractor_register
from mamori.datasets import corrections as dataset_corrections
from mamori.datasets import disclosure as dataset_disclosure
from mamori.datasets import erasure as dataset_erasure
from mamori.datasets import stops as dataset_stops
from mamori.incidents import reminders as incident_reminders
from mamori.mail import mailer
from mamori.provisions import disclosure as provision_disclosure
from mamori.provisions import gate as provision_gate
from mamori.requests import store as request_store
from mamori.requests.context import RequestContext
from mamori.requests.effects import Correction, RequestErasure, RequestStop
from mamori.requests.reminders import EVERY_SECONDS as REMINDER_SECONDS
from mamori.requests.reminders import NAME as REMINDER_JOB
from mamori.requests.reminders import remind
from mamori.requests.sections import Section, no_rows
from mamori.vault.core import Entrustment, Erasure
from mamori.vault.events import purge_expired
from mamori.webhooks import delivery as webhooks

__all__ = ["BUILT_IN", "Job", "JobContext", "Parts"]

log = logging.getLogger("mamori.app")

_NAME = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*")


class JobContext(RequestContext, Protocol):
    """What a job is run with: the application's :class:`~mamori.app.runtime.Runtime`
    (declared as a protocol so that these parts need not import the runtime that loads them)."""


@dataclass(frozen=True)
class Job:
    """A periodic job: ``run(runtime)`` every ``every_seconds`` (an int, or a function of the
    settings for a job whose period is a setting; a period of 0 switches the job off).

    Jobs must be idempotent and safe to run in several processes at once. Every server process
    schedules them on the embedded default and each scheduled run first claims its period
    (:mod:`mamori.tasks.storage`), so a job runs once per period across the processes; but a
    run can outlast its period, and a claim that cannot reach the database runs anyway.
    """

    name: str
    every_seconds: int | Callable[[Settings], int]
    run: Callable[[JobContext], object]

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name) or len(self.name) > 64:
            raise ValueError(f"a job name is dotted lower-case identifiers, not {self.name!r}")
        if isinstance(self.every_seconds, int) and self.every_seconds < 1:
            raise ValueError(f"job {self.name}: every_seconds must be at least 1")

    def period(self, settings: Settings) -> int:
        """Seconds between two runs under ``settings`` (0: the job is switched off)."""
        every = self.every_seconds
        return max(0, every(settings)) if callable(every) else every


@dataclass(frozen=True)
class Parts:
    """What a runtime loads: its periodic jobs, its disclosure-package sections, the steps
    of withdrawal that domains other than the vault own, and the register of contractors the
    vault asks before a contractor's key reads (``entrustment``)."""

    jobs: tuple[Job, ...] = ()
    sections: tuple[Section, ...] = field(default=())
    erasures: tuple[Erasure, ...] = field(default=())
    corrections: tuple[Correction, ...] = field(default=())
    request_erasures: tuple[RequestErasure, ...] = field(default=())
    request_stops: tuple[RequestStop, ...] = field(default=())
    entrustment: Entrustment | None = None

    def enabled_jobs(self, settings: Settings) -> list[Job]:
        """The jobs ``settings`` switch on, by name."""
        return sorted((j for j in self.jobs if j.period(settings) > 0), key=lambda j: j.name)

    def job(self, name: str) -> Job | None:
        return next((j for j in self.jobs if j.name == name), None)

    def with_jobs(self, *jobs: Job) -> Parts:
        """These parts with ``jobs`` added (a job of the same name is replaced)."""
        names = {j.name for j in jobs}
        kept = tuple(j for j in self.jobs if j.name not in names)
        return replace(self, jobs=(*kept, *jobs))

    def with_sections(self, *sections: Section) -> Parts:
        """These parts with ``sections`` added (a section of the same name is replaced)."""
        names = {s.name for s in sections}
        kept = tuple(s for s in self.sections if s.name not in names)
        return replace(self, sections=(*kept, *sections))


def _retention_purge(runtime: JobContext) -> object:
    purged = purge_expired(runtime.vault)
    if purged.events or purged.items:
        log.info("retention purge: %d events, %d items", purged.events, purged.items)
    return purged


BUILT_IN = Parts(
    jobs=(
        # Delivery also runs at once after each commit that queued mail; this period is the
        # safety net and the pace of retries.
        Job(
            "mail.deliver",
            lambda settings: min(settings.mail_retry_seconds, 60),
            lambda runtime: runtime.mail.deliver_pending(),
        ),
        Job("mail.purge", 3600, lambda runtime: runtime.mail.purge_finished()),
        Job(NOTICES_JOB, 60, send_notices),
        Job(REMINDER_JOB, REMINDER_SECONDS, remind),
        Job(incident_reminders.NAME, incident_reminders.EVERY_SECONDS, incident_reminders.remind),
        Job(
            provision_gate.PURGE_JOB,
            3600,
            lambda runtime: provision_gate.purge_records(runtime.vault),
        ),
        Job(
            anomalies.NAME,
            lambda settings: settings.anomaly_evaluate_minutes * 60,
            lambda runtime: anomalies.evaluate(runtime.engine, runtime.settings, runtime.clock),
        ),
        # Turns new audit entries into webhook deliveries and sends what is due (retries too);
        # a short period, each run a single read when there is nothing to do.
        Job(
            webhooks.NAME,
            lambda settings: settings.webhook_deliver_seconds,
            webhooks.run,
        ),
        Job(
            "vault.retention_purge",
            lambda settings: settings.retention_purge_minutes * 60,
            _retention_purge,
        ),
    ),
    sections=(
        Section(consent_disclosure.SECTION, consent_disclosure.receipt_rows),
        Section(change_disclosure.SECTION, change_disclosure.consent_rows),
        Section(provision_disclosure.RECORDS, provision_disclosure.record_rows),
        Section(provision_disclosure.CONSENTS, provision_disclosure.consent_rows),
        Section(provision_disclosure.ACQUISITIONS, provision_disclosure.acquisition_rows),
        Section(dataset_disclosure.SECTION, no_rows, bind=dataset_disclosure.rows_of),
    ),
    erasures=(*center_access.ERASURES, *request_store.ERASURES, *mailer.ERASURES),
    corrections=(Correction(dataset_corrections.NAME, dataset_corrections.correct),),
    request_erasures=(RequestErasure(dataset_erasure.NAME, dataset_erasure.carry_out),),
    request_stops=(RequestStop(dataset_stops.NAME, dataset_stops.record),),
    entrustment=contractor_register.suspended,
)
"""Every part mamori ships."""
