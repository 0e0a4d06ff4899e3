"""Prometheus metrics and the per-request JSON log line.

:class:`RequestObserver` is a plain ASGI middleware, installed only when ``/metrics`` is on
(MAMORI_METRICS_TOKEN) or the log is JSON (MAMORI_LOG_FORMAT=json): with both off a request
pays nothing. Per request it reads the clock twice, takes the route's *template* (``/api/v1/
subjects/{subject_id}/items``, never the raw path or its query string, which can hold an e-mail
address) and updates one counter and one histogram through children cached by label values.

The figures that are state rather than events (outbox depth, overdue requests, followers' lag
behind the audit log, the broker's queue) are read at scrape time by :class:`_StateCollector`
(:func:`mamori.app.status.state`). Labels hold route templates, methods, status codes, refusal
codes and names: never a value, an ID or an address.

With several worker processes, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder writable by
them all (prometheus-client's multiprocess mode): every scrape then sums the workers.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import secrets
import time
from collections.abc import Iterable, Iterator
from typing import Any, Final

import orjson
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mamori.app import Runtime
from mamori.app.status import state
from mamori.store import group_commit

__all__ = [
    "JsonFormatter",
    "RequestObserver",
    "count_refusals",
    "log_config",
    "registry",
]

_MULTIPROCESS: Final = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
_UNMATCHED: Final = "<unmatched>"
"""The route label of a request no route matched (a 404): never its path."""

REQUESTS = Counter(
    "mamori_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
    registry=None,
)
DURATION = Histogram(
    "mamori_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by method and route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=None,
)
REFUSALS = Counter(
    "mamori_refusals",
    "Items refused by the vault's reads (kind=vault_read) and by provisions "
    "(kind=provision), by refusal code.",
    ["kind", "reason"],
    registry=None,
)
COMMIT_SECONDS = Histogram(
    "mamori_group_commit_seconds",
    "Time one shared commit took (name=audit: the audit entries of reads, which no read "
    "returns before; name=consent_receipts: cookie-choice receipts).",
    ["name"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
    registry=None,
)
COMMIT_ITEMS = Counter(
    "mamori_group_commit_items",
    "Entries committed by shared commits.",
    ["name"],
    registry=None,
)
_EVENT_METRICS: Final = (REQUESTS, DURATION, REFUSALS, COMMIT_SECONDS, COMMIT_ITEMS)

_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_refusal_children: dict[tuple[str, str], Any] = {}


def _observe_commit(name: str, items: int, seconds: float) -> None:
    COMMIT_SECONDS.labels(name).observe(seconds)
    COMMIT_ITEMS.labels(name).inc(items)


def count_refusals(kind: str, reasons: Iterable[object]) -> None:
    """Count refused items by their code (a :class:`~mamori.policy.rules.Refusal` or a
    provision's refusal code); cheap enough for every read that refused something."""
    for reason in reasons:
        key = (kind, str(reason))
        child = _refusal_children.get(key)
        if child is None:
            child = _refusal_children[key] = REFUSALS.labels(kind, key[1])
        child.inc()


_access = logging.getLogger("mamori.access")
_REQUEST_ID: Final = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")


class RequestObserver:
    """Counts and times each HTTP request by route template; with ``log``, writes one line
    to the logger ``mamori.access`` and answers with an ``X-Request-ID`` (the caller's, when it
    sent a plain one of at most 64 characters, otherwise a new one)."""

    def __init__(self, app: ASGIApp, *, metrics: bool, log: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        request_id = ""
        if self.log:
            for name, value in scope["headers"]:
                if name == b"x-request-id" and _REQUEST_ID.match(value):
                    request_id = value.decode("ascii")
                    break
            else:
                request_id = secrets.token_hex(8)

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if request_id:
                    MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            took = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or _UNMATCHED
            method = scope["method"]
            if self.metrics:
                key = (method, template, status)
                pair = _children.get(key)
                if pair is None:
                    pair = _children[key] = (
                        REQUESTS.labels(method, template, str(status)),
                        DURATION.labels(method, template),
                    )
                pair[0].inc()
                pair[1].observe(took)
            if self.log:
                _access.info(
                    "%s %s %d",
                    method,
                    template,
                    status,
                    extra={
                        "fields": {
                            "route": template,
                            "method": method,
                            "status": status,
                            "duration_ms": round(took * 1000, 3),
                            "request_id": request_id,
                        }
                    },
                )


class _StateCollector(Collector):
    """Gauges read at scrape time (:func:`mamori.app.status.state`)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        from mamori.tasks.celery_app import queue_depth

        up = GaugeMetricFamily("mamori_database_up", "1 when the database answered the scrape.")
        try:
            found = state(self.runtime)
        except Exception:  # the database is down: say so, and nothing else
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "mamori_audit_entries", "Entries in the audit log.", value=found.audit_entries
        )
        lag = GaugeMetricFamily(
            "mamori_audit_follower_lag_entries",
            "Audit entries a follower (anomalies: the alerts; webhooks) has not acted on yet.",
            labels=["follower"],
        )
        for name, behind in sorted(found.followers.items()):
            lag.add_metric([name], behind)
        yield lag
        outbox = GaugeMetricFamily(
            "mamori_outbox_mail", "Mail in the outbox, by status.", labels=["status"]
        )
        for status in ("queued", "sent", "failed", "kept"):
            outbox.add_metric([status], found.outbox.get(status, 0))
        yield outbox
        yield GaugeMetricFamily(
            "mamori_webhook_deliveries_pending",
            "Webhook deliveries not finished yet (pending or being delivered).",
            value=found.webhooks_pending,
        )
        yield GaugeMetricFamily(
            "mamori_requests_open",
            "People's requests still owed an answer.",
            value=found.requests_owed,
        )
        yield GaugeMetricFamily(
            "mamori_requests_overdue",
            "People's requests owed an answer past their due date.",
            value=found.requests_overdue,
        )
        depth = queue_depth(self.runtime.settings)
        if depth is not None:
            yield GaugeMetricFamily(
                "mamori_task_queue_depth",
                "Tasks waiting in the broker's queue (MAMORI_TASK_QUEUE).",
                value=depth,
            )


def registry(runtime: Runtime) -> CollectorRegistry:
    """The registry ``/metrics`` exposes: this process's events (or, in multiprocess mode,
    every worker's) and the state gauges. Starts observing group commits."""
    group_commit.observe(_observe_commit)
    found = CollectorRegistry(auto_describe=True)
    if _MULTIPROCESS:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(found)  # type: ignore[no-untyped-call]
    else:
        for metric in _EVENT_METRICS:
            found.register(metric)
    found.register(_StateCollector(runtime))
    return found


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, and the record's ``fields``
    (a dict given as ``extra={"fields": {...}}``: ``route``, ``method``, ``status``,
    ``duration_ms``, ``request_id`` for the access line). Of an exception only its type is
    written: its text may quote what a client sent."""

    def format(self, record: logging.LogRecord) -> str:
        seconds = int(record.created)
        line: dict[str, object] = {
            "ts": f"{_utc_second(seconds)}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__
        return orjson.dumps(line, default=str).decode("utf-8")


@functools.lru_cache(maxsize=4)
def _utc_second(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def log_config(log_format: str, level: str) -> dict[str, Any] | None:
    """The ``logging.config.dictConfig`` uvicorn applies: None for uvicorn's own text format;
    for JSON, every logger (uvicorn's, mamori's) writes JSON lines to standard error, and
    uvicorn's access log is left off (the JSON access line replaces it)."""
    if log_format != "json":
        return None
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"json": handler},
        "loggers": {
            "uvicorn": {"handlers": ["json"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "mamori": {"handlers": ["json"], "level": level.upper(), "propagate": False},
        },
    }
