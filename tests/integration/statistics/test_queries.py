"""Grouped counts of a statistics-only purpose: a small cell is suppressed and the totals do
not give it back; a pair of queries whose people differ by fewer than k is refused; people who
stopped the purpose or withdrew are not counted; every query audited with its shape only.
Through the library, the API, the client and the CLI. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.audit.entry import AuditEntry
from mamori.client import Client
from mamori.errors import ApiError, DifferencingRefused, PermissionDenied, UserInputError
from mamori.policy.rules import compile_rules
from mamori.statistics import queries
from mamori.statistics.disclosure import Entry
from mamori.vault import events as vault_events
from mamori.vault import restrictions
from mamori.vault.access import Caller
from mamori.web.app import create_app
from tests.helpers.cli import mamori
from tests.helpers.edits import edited, purpose
from tests.helpers.keys import service_key
from tests.helpers.runtime import open_test_runtime
from tests.helpers.statistics import statistics_policy, statistics_policy_file

HOST = Caller("key:host")
STATS = Caller("key:stats", frozenset({"statistics"}), frozenset({"read"}))


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    return statistics_policy_file(tmp_path / "policy")


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, policy: Path) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url, policy=policy)
    yield runtime
    runtime.close()


def _people(runtime: Runtime, where: dict[str, int], born: str = "1990-05-01") -> list[str]:
    made: list[str] = []
    for prefecture, n in where.items():
        for i in range(n):
            made.append(
                runtime.vault.create_subject(
                    HOST,
                    type="customer",
                    items={
                        "name": "山田 花子",
                        "email": f"{len(made)}-{i}@example.jp",
                        "address": f"{prefecture}中央1-{i}",
                        "date_of_birth": born,
                        "device_model": "iPhone 15",
                    },
                )
            )
    return made


def entries(runtime: Runtime, action: str) -> list[AuditEntry]:
    return [e for e in runtime.audit.tail(1000) if e.action == action]


def _run(runtime: Runtime, *by: str, caller: Caller = STATS, **kw: object) -> queries.Answer:
    query = queries.parse(runtime.vault.rules(), "statistics", by=by, **kw)  # type: ignore[arg-type]
    return queries.run(runtime.vault, caller, query)


def _cell(entries_: list[Entry], **groups: str | None) -> Entry:
    return next(e for e in entries_ if e.groups == groups)


def test_a_cell_of_three_is_suppressed_and_the_totals_do_not_give_it_back(
    runtime: Runtime,
) -> None:
    _people(runtime, {"東京都": 12, "大阪府": 3, "京都府": 15})
    answer = _run(runtime, "prefecture")
    table = answer.table
    osaka = _cell(table.cells, prefecture="大阪府")
    assert osaka.suppressed == "primary"
    # The total is shown: another cell is suppressed with Osaka, so total minus the shown cells
    # is the sum of two unknowns, not Osaka's count.
    [total] = table.totals
    assert not total.suppressed and total.value == 30
    shown = [e for e in table.cells if not e.suppressed]
    hidden = [e for e in table.cells if e.suppressed]
    assert len(hidden) == 2, hidden
    assert total.value - sum(e.value for e in shown) != 3
    assert _cell(table.cells, prefecture="東京都").suppressed == "secondary"  # the smallest other


def test_two_dimensions_suppress_rows_columns_and_margins(runtime: Runtime) -> None:
    _people(runtime, {"東京都": 20, "大阪府": 12}, born="1990-05-01")
    _people(runtime, {"東京都": 11, "大阪府": 3}, born="1960-05-01")
    table = _run(runtime, "prefecture", "age_band").table
    assert _cell(table.cells, prefecture="大阪府", age_band="60-69").suppressed == "primary"
    # Every row, column and margin line holds no single suppressed entry.
    for key, dim in (("prefecture", "age_band"), ("age_band", "prefecture")):
        for total in (t for t in table.totals if set(t.groups) == {key}):
            line = [e for e in table.cells if e.groups[key] == total.groups[key]] + [total]
            assert sum(1 for e in line if e.suppressed) != 1, (key, total)
        del dim


def test_a_differencing_pair_of_queries_is_refused(runtime: Runtime) -> None:
    made = _people(runtime, {"東京都": 30})
    today = runtime.vault.today()
    _run(runtime, until=today)
    # Two more people arrive after the first query: asking again isolates them.
    late = _people(runtime, {"大阪府": 2})
    with pytest.raises(DifferencingRefused, match="fewer than 10"):
        _run(runtime, "prefecture", until=today)
    # Another wording of the same question is compared with what the first one counted then.
    with pytest.raises(DifferencingRefused, match="fewer than 10"):
        _run(runtime, since="1970-01-01")
    # Two windows of usage events that differ by two people's events.
    for subject in made:
        _event(runtime, subject, "2026-05-10T10:00:00+09:00")
    for subject in late:
        _event(runtime, subject, "2026-05-01T10:00:00+09:00")
    # The same thirty people as the first query: nobody is singled out.
    _run(runtime, measure="events", since="2026-05-05")
    with pytest.raises(DifferencingRefused, match="fewer than 10"):
        _run(runtime, "month", measure="events", since="2026-05-01")
    refused = entries(runtime, "statistics.refused")
    assert len(refused) == 3 and refused[0].targets[0] == "purpose:statistics"
    assert {e.details["reason"] for e in refused} == {"moved", "differs"}
    # Enough new people and the same question may be asked again.
    _people(runtime, {"京都府": 12})
    assert _run(runtime, until=today).table.totals[-1].value == 30 + len(late) + 12


def _event(runtime: Runtime, subject: str, at: str) -> None:
    vault_events.add_events(
        runtime.vault,
        HOST,
        subject,
        [{"occurred_at": at, "action": "login", "device_model": "Pixel 9"}],
    )


def test_people_who_stopped_the_purpose_or_withdrew_are_not_counted(runtime: Runtime) -> None:
    made = _people(runtime, {"東京都": 14})
    restrictions.set_stops(
        runtime.vault, HOST, made[0], stopped_items=[], stopped_purposes=["statistics"]
    )
    runtime.vault.withdraw(HOST, made[1])
    restrictions.set_stops(
        runtime.vault, HOST, made[2], stopped_items=["date_of_birth"], stopped_purposes=[]
    )
    table = _run(runtime, "age_band").table
    assert table.totals[-1].value == 12
    assert _cell(table.cells, age_band="30-39").value == 11
    assert _cell(table.cells, age_band=None).suppressed == "primary"  # the one stopped item


def test_events_by_device_model_and_month(runtime: Runtime) -> None:
    made = _people(runtime, {"東京都": 12})
    at = "2026-05-10T10:00:00+09:00"
    for subject in made:
        vault_events.add_events(
            runtime.vault,
            HOST,
            subject,
            [{"occurred_at": at, "action": "login", "device_model": "Pixel 9"}] * 2,
        )
    table = _run(runtime, "device_model", "month", measure="events").table
    cell = _cell(table.cells, device_model="Pixel 9", month="2026-05")
    assert (cell.value, cell.people, cell.suppressed) == (24, 12, None)


def test_ages_are_summed_and_averaged_per_cell_and_suppressed_with_it(runtime: Runtime) -> None:
    _people(runtime, {"東京都": 12}, born="1990-05-01")
    _people(runtime, {"東京都": 10}, born="1970-05-01")
    _people(runtime, {"大阪府": 3}, born="1980-05-01")
    runtime.vault.create_subject(  # no date of birth: not counted by age
        HOST, type="customer", items={"name": "山田", "email": "x@example.jp"}
    )
    today = runtime.vault.today()
    table = _run(runtime, "prefecture", measure="age").table
    tokyo = _cell(table.cells, prefecture="東京都")
    assert tokyo.value == 22 and tokyo.suppressed == "secondary"  # beside Osaka's three
    [total] = table.totals
    assert total.value == 25 and not total.suppressed
    ages = [today.year - y - ((today.month, today.day) < (5, 1)) for y in (1990, 1970, 1980)]
    assert total.sum == ages[0] * 12 + ages[1] * 10 + ages[2] * 3
    assert total.mean == round(total.sum / 25, 1)

    def no_age_band(data: dict[str, Any]) -> None:
        statistics_policy(data)
        dims = purpose(data, "statistics")["statistics"]["dimensions"]
        dims[:] = [d for d in dims if d["id"] != "age_band"]

    with pytest.raises(UserInputError, match="declares no age_band dimension"):
        queries.parse(compile_rules(edited(no_age_band)), "statistics", measure="age")


def test_every_query_is_audited_with_its_shape_only(runtime: Runtime) -> None:
    _people(runtime, {"東京都": 10})
    answer = _run(runtime, "prefecture", since="2026-01-01")
    [entry] = entries(runtime, "statistics.query")
    assert entry.actor == "key:stats"
    assert list(entry.targets) == ["purpose:statistics", f"statistics_query:{answer.id}"]
    assert entry.details == {
        "purpose": "statistics",
        "measure": "people",
        "by": "prefecture",
        "since": "2026-01-01",
        "until": None,
    }
    assert "東京" not in orjson.dumps(entry.details).decode()


def test_bad_queries_are_refused_with_what_is_wrong(runtime: Runtime) -> None:
    rules = runtime.vault.rules()
    with pytest.raises(UserInputError, match=r"declares no dimension 'prefectur'.*'prefecture'"):
        queries.parse(rules, "statistics", by=["prefectur"])
    with pytest.raises(UserInputError, match="not statistics_only"):
        queries.parse(rules, "service_operation")
    with pytest.raises(UserInputError, match="at most 2"):
        queries.parse(rules, "statistics", by=["prefecture", "age_band", "month"])
    with pytest.raises(UserInputError, match="since: not a day"):
        queries.parse(rules, "statistics", since="yesterday")
    with pytest.raises(UserInputError, match="until: give a day from 1970-01-01"):
        queries.parse(rules, "statistics", until="9999-12-31")
    with pytest.raises(PermissionDenied, match="not granted purpose 'statistics'"):
        queries.run(
            runtime.vault,
            Caller("key:other", frozenset({"advertising"}), frozenset({"read"})),
            queries.parse(rules, "statistics"),
        )


def test_the_api_and_the_client(runtime: Runtime) -> None:
    _people(runtime, {"東京都": 12, "大阪府": 3, "京都府": 15})
    token = service_key(runtime, "read", purposes=["statistics"])
    with TestClient(create_app(runtime=runtime)) as web:
        client = Client("http://testserver", token, transport=_Transport(web))
        answer = client.statistics("statistics", by=["prefecture"])
        osaka = next(c for c in answer.cells if c.groups == {"prefecture": "大阪府"})
        assert osaka.value is None and osaka.suppressed == "primary"
        assert answer.totals[-1].value == 30 and answer.min_cell == 10
        with pytest.raises(ApiError) as bad:
            client.statistics("statistics", by=["planet"])
        assert bad.value.status == 400 and "declares no dimension 'planet'" in str(bad.value)
        other = service_key(runtime, "read", purposes=["advertising"], name="other")
        answer_ = web.post(
            "/api/v1/statistics",
            json={"purpose": "statistics"},
            headers={"Authorization": f"Bearer {other}"},
        )
        assert answer_.status_code == 403, answer_.text
        _people(runtime, {"北海道": 1})
        refused = web.post(
            "/api/v1/statistics",
            json={"purpose": "statistics", "by": ["prefecture"]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert refused.status_code == 409 and "fewer than 10" in refused.json()["error"]


def test_the_cli(runtime: Runtime, env: dict[str, str], policy: Path) -> None:
    _people(runtime, {"東京都": 12, "大阪府": 3, "京都府": 15})
    env = {**env, "MAMORI_POLICY": str(policy)}
    ran = mamori("statistics", "query", "statistics", "--by", "prefecture", env=env)
    assert "prefecture=大阪府: [primary]" in ran.stdout
    assert "total: 30" in ran.stdout
    bad = mamori("statistics", "query", "statistics", "--by", "planet", env=env, check=2)
    assert "declares no dimension 'planet'" in bad.stderr and len(bad.stderr.splitlines()) == 1


class _Transport(httpx.BaseTransport):
    """The client's calls handed to the in-process app."""

    def __init__(self, web: TestClient) -> None:
        self.web = web

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.web.request(
            request.method, str(request.url), headers=request.headers, content=request.content
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)
