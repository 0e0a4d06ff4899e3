"""The database tables, declared once as SQLAlchemy Core ``Table`` objects on one ``MetaData``.

The migrations in ``mamori/store/migrations`` create exactly these tables; a test compares the
two. Only each domain's storage module (``mamori.<domain>.storage``) and the audit log read and
write them (an import-linter contract keeps it so); they return frozen dataclasses or rows,
never ORM objects. Tables are named for what they hold and grouped by the domain that owns
them: :mod:`.core` (policy, audit, vault, center, staff), :mod:`.people` (requests, mail,
consents, provisions), :mod:`.contractors` (the register of contractors), :mod:`.incidents`
(the register of breaches) and :mod:`.staff_factors` (second factors of staff sign-in), all on
:data:`.base.metadata`.
"""

from __future__ import annotations

from mamori.store.tables.anomalies import (
    anomaly_alerts,
    anomaly_clients,
    anomaly_counts,
    anomaly_cursor,
    anomaly_people,
)
from mamori.store.tables.base import NAMING, Seq, UTCDateTime, metadata
from mamori.store.tables.contractors import contractor_checks, contractor_contracts
from mamori.store.tables.core import (
    audit_checkpoints,
    audit_entries,
    audit_nodes,
    blind_indexes,
    center_links,
    center_sessions,
    item_groups,
    policy_versions,
    restrictions,
    service_keys,
    staff_accounts,
    staff_sessions,
    staff_sign_in_failures,
    subject_items,
    subjects,
    system_keys,
    usage_events,
)
from mamori.store.tables.datasets import dataset_erasure_steps, dataset_erasures
from mamori.store.tables.incidents import (
    incident_actions,
    incident_people,
    incident_reports,
    incidents,
)
from mamori.store.tables.jobs import job_runs
from mamori.store.tables.people import (
    change_notice_reads,
    consent_links,
    consent_receipts,
    consent_texts,
    data_requests,
    mail_optouts,
    mail_outbox,
    policy_changes,
    policy_consents,
    provision_acquisitions,
    provision_consents,
    provision_record_people,
    provision_records,
    request_codes,
    request_notes,
    request_throttle,
)
from mamori.store.tables.staff_factors import (
    staff_pending_sign_ins,
    staff_recovery_codes,
    staff_totp,
)
from mamori.store.tables.statistics import (
    pseudonym_keys,
    pseudonymised_exports,
    statistics_queries,
)
from mamori.store.tables.training import training_completions, training_courses
from mamori.store.tables.webhooks import (
    webhook_attempts,
    webhook_cursor,
    webhook_deliveries,
    webhook_endpoints,
)

__all__ = [
    "NAMING",
    "Seq",
    "UTCDateTime",
    "anomaly_alerts",
    "anomaly_clients",
    "anomaly_counts",
    "anomaly_cursor",
    "anomaly_people",
    "audit_checkpoints",
    "audit_entries",
    "audit_nodes",
    "blind_indexes",
    "center_links",
    "center_sessions",
    "change_notice_reads",
    "consent_links",
    "consent_receipts",
    "consent_texts",
    "contractor_checks",
    "contractor_contracts",
    "data_requests",
    "dataset_erasure_steps",
    "dataset_erasures",
    "incident_actions",
    "incident_people",
    "incident_reports",
    "incidents",
    "item_groups",
    "job_runs",
    "mail_optouts",
    "mail_outbox",
    "metadata",
    "policy_changes",
    "policy_consents",
    "policy_versions",
    "provision_acquisitions",
    "provision_consents",
    "provision_record_people",
    "provision_records",
    "pseudonym_keys",
    "pseudonymised_exports",
    "request_codes",
    "request_notes",
    "request_throttle",
    "restrictions",
    "service_keys",
    "staff_accounts",
    "staff_pending_sign_ins",
    "staff_recovery_codes",
    "staff_sessions",
    "staff_sign_in_failures",
    "staff_totp",
    "statistics_queries",
    "subject_items",
    "subjects",
    "system_keys",
    "training_completions",
    "training_courses",
    "usage_events",
    "webhook_attempts",
    "webhook_cursor",
    "webhook_deliveries",
    "webhook_endpoints",
]
