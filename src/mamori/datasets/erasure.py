"""Erasure of the person's rows in the connected databases, in four visible stages.

1. **Plan** (:func:`compute`): the rows found by the traversal, by primary key; what each
   table's erasure does (delete the row, or write null, a fixed value, a keyed hash); in an
   order the constraints accept: updates first, parents before children, then deletes,
   children before parents. A dataset whose checks fail (:func:`mamori.datasets.graph.problems`)
   is refused before anything is planned. Nothing changes: this is the dry run.
2. **Record** (:func:`record`): the plan and its steps in mamori's database, with an audit
   entry on the request (``datasets.erasure_planned``), before any row is touched.
3. **Run** (:func:`run`): step by step, each a batch of at most :data:`BATCH` keys in one
   transaction of the connected database, then its checkpoint in mamori's. A crash between
   the two leaves that one step unmarked: on resumption it runs again, which changes nothing
   twice (a deleted row is gone, a written value is the same, a hashed value is recognised).
   A step the database refuses stops the erasure in state ``failed`` with its reason (codes,
   never a value), audited; running again resumes from that step.
4. **Verify**: every planned row re-queried by key: deleted rows must be gone, erased columns
   must hold what erasure wrote. The erasure is ``verified`` only with 0 rows left.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, NoReturn

from mamori.datasets import graph as graphs
from mamori.datasets import sources, storage, traversal
from mamori.datasets.model import Erase
from mamori.datasets.storage import ErasureRecord, StepRecord
from mamori.errors import Conflict, DatasetError, DatasetStepFailed, NotFound
from mamori.requests import store as requests
from mamori.requests.model import Request, RequestType
from mamori.store import db
from mamori.store.db import SQLAlchemyError

if TYPE_CHECKING:
    from mamori.requests.context import RequestContext

__all__ = [
    "BATCH",
    "KEY_NAME",
    "NAME",
    "Kept",
    "Plan",
    "Scope",
    "carry_out",
    "compute",
    "record",
    "run",
    "scope",
    "status",
]

NAME: Final = "datasets"

BATCH: Final = 500
"""Rows per step: one statement and one transaction in the connected database."""
KEY_NAME: Final = "datasets"
"""The system key of the keyed hashes erasure writes."""


@dataclass(frozen=True)
class Kept:
    dataset: str
    table: str
    column: str
    reason: str
    rows: int


@dataclass
class Plan:
    request_id: str
    subject_id: str
    steps: list[StepRecord] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(s.row_count for s in self.steps)


def _request(ctx: RequestContext, request_id: str) -> Request:
    with db.read(ctx.engine) as conn:
        request = requests.load(conn, request_id)
    if request.type is not RequestType.erasure:
        raise Conflict(f"request {request_id} is a {request.type.value} request, not an erasure")
    if not request.subject_id:
        raise Conflict(f"request {request_id} names no person in the vault")
    return request


_WRITTEN: Final = frozenset({Erase.set_null, Erase.rewrite, Erase.hash})


@dataclass(frozen=True)
class Scope:
    """What an erasure does to each table: the tables whose rows go, and the columns written
    on the rows that stay."""

    deletes: frozenset[str]
    updates: dict[str, dict[str, Erase]]


def scope(graph: graphs.Graph, items: Collection[str] = ()) -> Scope:
    """The whole declared erasure (no ``items``), or only that of the columns holding
    ``items``: a chosen column that says ``delete`` takes its row; the rows that refer to a row
    that goes are then erased as declared (deleted, or their reference set to null) unless the
    database cascades, so that no constraint breaks."""
    if not items:
        return Scope(
            frozenset(n for n, node in graph.nodes.items() if node.deletes),
            {n: node.updates for n, node in graph.nodes.items() if node.updates},
        )
    chosen = set(items)
    deletes: set[str] = set()
    updates: dict[str, dict[str, Erase]] = {}
    for name, node in graph.nodes.items():
        columns = {c: s.erase for c, s in node.table.columns.items() if s.item in chosen}
        if any(e is Erase.delete for e in columns.values()):
            deletes.add(name)
            continue
        written: dict[str, Erase] = {c: e for c, e in columns.items() if e in _WRITTEN}
        if written:
            updates[name] = written
    todo = sorted(deletes)
    while todo:
        for edge in graph.children_of(todo.pop(), every=True):
            if not edge.follow or (edge.on_delete or "").upper() in graphs.CASCADING:
                continue
            child = graph.nodes[edge.child]
            if child.deletes:
                if edge.child not in deletes:
                    deletes.add(edge.child)
                    updates.pop(edge.child, None)
                    todo.append(edge.child)
            elif edge.child not in deletes:
                nulled = {c: Erase.set_null for c in edge.child_columns}
                updates[edge.child] = {**updates.get(edge.child, {}), **nulled}
    return Scope(frozenset(deletes), updates)


def _steps(
    connected: sources.Connected, keys: dict[str, list[Any]], seq: int, plan: Scope
) -> list[StepRecord]:
    graph = connected.graph
    dataset = connected.dataset
    order = graph.order()
    steps: list[StepRecord] = []

    def add(name: str, action: str, columns: dict[str, Any]) -> None:
        found = keys.get(name) or []
        for start in range(0, len(found), BATCH):
            batch = found[start : start + BATCH]
            steps.append(
                StepRecord(
                    seq + len(steps),
                    dataset.id,
                    name,
                    action,
                    columns,
                    batch,
                    len(batch),
                    None,
                    None,
                )
            )

    for name in order:  # updates, parents first: a child's key is nulled before its parent goes
        updates = plan.updates.get(name)
        if updates:
            columns = {
                c: {"erase": e.value, "value": dataset.tables[name].columns[c].value}
                for c, e in updates.items()
            }
            add(name, "update", columns)
    for name in reversed(order):  # deletes, children first
        if name in plan.deletes:
            add(name, "delete", {})
    return steps


def compute(ctx: RequestContext, request_id: str, items: Collection[str] = ()) -> Plan:
    """The plan of the erasure request ``request_id`` (nothing is changed): the whole
    declared erasure, or with ``items`` only that of the columns holding them (:func:`scope`)."""
    request = _request(ctx, request_id)
    assert request.subject_id is not None
    plan = Plan(request_id, request.subject_id)
    loaded = sources.declared(ctx.settings, ctx.vault.rules().items)
    if not loaded:
        return plan
    with db.read(ctx.engine) as conn:
        seeds = traversal.identities(
            ctx.vault, conn, request.subject_id, traversal.seed_items(loaded)
        )
    for item in loaded:
        with sources.connected(item) as connected:
            found = [item.problem(p, m) for p, m in graphs.problems(connected.graph)]
            if found:
                raise DatasetError(found)
            keys: dict[str, list[Any]] = {}
            for page in traversal.walk(connected, seeds):
                keys.setdefault(page.node.name, []).extend(list(page.key(r)) for r in page.rows)
            chosen = scope(connected.graph, items)
            plan.steps.extend(_steps(connected, keys, len(plan.steps) + 1, chosen))
            for name, table in item.dataset.tables.items():
                for column, spec in table.columns.items():
                    if (
                        spec.erase is Erase.keep
                        and keys.get(name)
                        and (not items or spec.item in items)
                    ):
                        plan.kept.append(
                            Kept(item.dataset.id, name, column, spec.reason or "", len(keys[name]))
                        )
    return plan


def status(ctx: RequestContext, request_id: str) -> tuple[ErasureRecord | None, list[StepRecord]]:
    """The recorded erasure of ``request_id`` and its steps (None: none recorded)."""
    with db.read(ctx.engine) as conn:
        found = storage.erasure_of(conn, request_id)
        steps = list(storage.steps_of(conn, request_id)) if found else []
    return found, steps


def _audit(
    ctx: RequestContext,
    conn: db.Connection,
    rec: ErasureRecord,
    action: str,
    actor: str,
    **details: str | int | bool | None,
) -> None:
    ctx.audit.append(
        conn,
        actor=actor,
        action=f"datasets.{action}",
        targets=[f"request:{rec.request_id}", f"subject:{rec.subject_id}"],
        details=details,
    )


def record(ctx: RequestContext, plan: Plan, *, actor: str) -> ErasureRecord:
    """Record ``plan`` (and audit it on the request) before anything is changed; a plan
    already recorded for the request is kept as it is, and returned."""
    with db.write(ctx.engine) as conn:
        found = storage.erasure_of(conn, plan.request_id)
        if found is not None:
            return found
        rec = ErasureRecord(
            plan.request_id,
            plan.subject_id,
            "planned",
            len(plan.steps),
            plan.rows,
            None,
            actor,
            ctx.clock.now(),
            None,
        )
        storage.record_erasure(conn, rec, plan.steps)
        _audit(
            ctx,
            conn,
            rec,
            "erasure_planned",
            actor,
            steps=len(plan.steps),
            rows=plan.rows,
            kept_columns=len(plan.kept),
            datasets=len({s.dataset for s in plan.steps}),
        )
    return rec


def _reason(step: StepRecord, exc: BaseException) -> str:
    # The driver's code, never its message (which may quote a row's values).
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None) or (
        orig.args[0] if orig is not None and orig.args and isinstance(orig.args[0], int) else None
    )
    what = type(orig or exc).__name__ + (f" {code}" if code else "")
    where = f"step {step.seq} ({step.dataset}.{step.table}, {step.action})"
    return f"{where}: the database refused it ({what})"


def _apply(connected: sources.Connected, step: StepRecord, digest: Callable[[str], str]) -> int:
    node = connected.graph.nodes[step.table]
    pk = node.primary_key
    namespace = connected.dataset.namespace
    keys = [tuple(k) for k in step.keys]
    with connected.engine.begin() as conn:
        if step.action == "delete":
            return storage.delete_by_keys(conn, namespace, step.table, pk, keys)
        values = {
            c: (None if spec["erase"] == Erase.set_null.value else spec["value"])
            for c, spec in step.columns.items()
            if spec["erase"] in (Erase.set_null.value, Erase.rewrite.value)
        }
        hashed = [c for c, spec in step.columns.items() if spec["erase"] == Erase.hash.value]
        changed = (
            storage.update_by_keys(conn, namespace, step.table, pk, keys, values) if values else 0
        )
        if hashed:
            changed = max(
                changed, storage.hash_by_keys(conn, namespace, step.table, pk, keys, hashed, digest)
            )
        return changed


def _left(connected: sources.Connected, step: StepRecord) -> int:
    node = connected.graph.nodes[step.table]
    keys = [tuple(k) for k in step.keys]
    still = None
    if step.action == "update":
        still = {c: (spec["erase"], spec["value"]) for c, spec in step.columns.items()}
    with connected.engine.connect() as conn:
        return storage.count_by_keys(
            conn, connected.dataset.namespace, step.table, node.primary_key, keys, still
        )


def run(
    ctx: RequestContext,
    request_id: str,
    *,
    actor: str,
    after_step: Callable[[StepRecord], None] | None = None,
) -> ErasureRecord:
    """Run the recorded erasure of ``request_id`` from its first step not done, then verify
    it. ``after_step`` is called after a step's change commits and before its checkpoint
    does (a test injects its crash there)."""
    with db.read(ctx.engine) as conn:
        rec = storage.erasure_of(conn, request_id)
    if rec is None:
        raise NotFound(
            f"no erasure recorded for request {request_id} (mamori datasets erase-plan --record)"
        )
    if rec.state == "verified":
        return rec
    with db.write(ctx.engine) as conn:
        storage.set_state(conn, request_id, "running")
        _audit(ctx, conn, rec, "erasure_started", actor, resumed=rec.state != "planned")
    by_id = {item.dataset.id: item for item in sources.declared(ctx.settings)}
    key = ctx.vault.system_keys.get(KEY_NAME)

    def digest(value: str) -> str:
        mac = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
        return storage.HASH_PREFIX + mac[: graphs.HASH_LENGTH - len(storage.HASH_PREFIX)]

    def fail(reason: str, cause: str, step: int | None = None) -> NoReturn:
        with db.write(ctx.engine) as conn:
            storage.set_state(conn, request_id, "failed", reason=reason)
            _audit(ctx, conn, rec, "erasure_failed", actor, cause=cause, step=step)
        raise DatasetStepFailed(f"request {request_id}: {reason}")

    with contextlib.ExitStack() as stack:
        opened: dict[str, sources.Connected] = {}

        def connect(dataset_id: str) -> sources.Connected:
            if dataset_id not in opened:
                if dataset_id not in by_id:
                    fail(f"dataset {dataset_id} of the plan is no longer declared", "undeclared")
                opened[dataset_id] = stack.enter_context(sources.connected(by_id[dataset_id]))
            return opened[dataset_id]

        with db.read(ctx.engine) as conn:
            pending = list(storage.steps_of(conn, request_id, pending=True))
        for step in pending:
            connected = connect(step.dataset)
            try:
                affected = _apply(connected, step, digest)
            except SQLAlchemyError as exc:
                fail(_reason(step, exc), "refused", step.seq)
            if after_step is not None:
                after_step(step)
            with db.write(ctx.engine) as conn:
                storage.mark_step(
                    conn, request_id, step.seq, done_at=ctx.clock.now(), affected=affected
                )
        with db.read(ctx.engine) as conn:
            every = list(storage.steps_of(conn, request_id))
        left = sum(_left(connect(s.dataset), s) for s in every)
    if left:
        fail(f"{left} planned rows still hold the person's values after every step ran", "left")
    with db.write(ctx.engine) as conn:
        storage.set_state(conn, request_id, "verified", finished_at=ctx.clock.now())
        _audit(
            ctx, conn, rec, "erasure_verified", actor, steps=len(every), rows=rec.row_count, left=0
        )
        done = storage.erasure_of(conn, request_id)
    assert done is not None
    return done


def carry_out(ctx: RequestContext, request_id: str, items: Sequence[str], actor: str) -> int:
    """The erasure of a granted request, as its decision runs it before the vault changes:
    the whole of it before the vault shreds the person (no ``items``), or that of the
    columns holding ``items`` before the vault erases them; planned and recorded unless it
    already is, run (or resumed), verified. Returns the rows erased (0 when no dataset is
    declared)."""
    if not sources.declared(ctx.settings):
        return 0
    found, _ = status(ctx, request_id)
    if found is None:
        record(ctx, compute(ctx, request_id, items), actor=actor)
    return run(ctx, request_id, actor=actor).row_count
