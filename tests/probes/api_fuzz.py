"""The API probe: Schemathesis against a served mamori, generated from its own OpenAPI document.

    python -m tests.probes.api_fuzz [--database-url postgresql+psycopg://...] [--examples 100]

It starts ``mamori serve`` (a process of its own, as in production) on a fresh database, creates
a key holding every purpose and operation of the example policy, stores a dozen people for the
generated calls to reach, and runs Schemathesis with the checks that keep the document true:
no server error, no status the document does not list, no body or content type that breaks it,
and every NDJSON line valid (:mod:`tests.probes.schemathesis_hooks`). Afterwards the server must
still answer, its log must hold no server error, and ``mamori audit verify`` must pass.

It prints the counts and exits 1 if any of that fails or fewer than ``--min-cases`` cases ran.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from mamori.config import example_policy_path
from mamori.policy.loader import load_policy
from tests.helpers.process import ServedProcess, mamori_env, run_mamori

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "content_type_conformance",
    "ndjson_lines_conform",
)
BIN = Path(sys.executable).parent
_ACCESS = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[0-9.]+" (?P<status>\d{3})')
_ID = re.compile(r"/[0-9a-f]{32}(?=/|$)")


def _statuses(server_log: str) -> dict[str, collections.Counter[int]]:
    """Answers by route (ids folded) and status, from the server's access log."""
    seen: dict[str, collections.Counter[int]] = collections.defaultdict(collections.Counter)
    for match in _ACCESS.finditer(server_log):
        path = _ID.sub("/{id}", match["path"])
        if path.startswith("/api/v1/"):
            seen[f"{match['method']} {path}"][int(match["status"])] += 1
    return seen


@contextmanager
def _database(server_url: str | None, folder: Path) -> Iterator[str]:
    """A fresh database: a SQLite file, or a new database on the PostgreSQL server given."""
    if not server_url:
        yield f"sqlite:///{folder / 'mamori.db'}"
        return
    server = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"mamori_probe_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _seed(url: str, key: str, count: int) -> list[str]:
    """``count`` people with the items a customer of the example has, for the calls to reach."""
    headers = {"Authorization": f"Bearer {key}"}
    ids = []
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        for n in range(count):
            body = {
                "type": "customer",
                "external_id": f"probe-{n}",
                "items": {
                    "name": f"Probe Person {n}",
                    "email": f"probe{n}@example.com",
                    "phone": f"090-1234-{n:04d}",
                    "address": {"postal_code": "100-0001", "prefecture": "東京都"},
                },
            }
            answer = client.post("/api/v1/subjects", json=body)
            if answer.status_code != 201:
                raise SystemExit(f"probe: storing a person answered {answer.status_code}")
            ids.append(answer.json()["id"])
    return ids


def run(database_url: str | None, examples: int, min_cases: int, workers: int) -> int:
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="mamori-probe-") as tmp,
        _database(database_url, Path(tmp)) as url,
    ):
        folder = Path(tmp)
        env = mamori_env(folder / "data", url)
        run_mamori(env, "init")
        log_path = folder / "serve.log"
        server = ServedProcess(env, log_path)
        base = server.url
        try:
            server.wait_healthy()
            purposes = [p.id for p in load_policy(example_policy_path()).purposes]
            key_args = [a for p in purposes for a in ("-p", p)]
            ops = ["-o", "read", "-o", "write", "-o", "delete", "-o", "provide"]
            key = run_mamori(env, "keys", "create", "schemathesis", *key_args, *ops).stdout.strip()
            subjects = _seed(base, key, 12)
            report = folder / "schemathesis.json"
            fuzz_env = env | {
                "SCHEMATHESIS_HOOKS": "tests.probes.schemathesis_hooks",
                "MAMORI_FUZZ_SUBJECTS": ",".join(subjects),
                "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
            }
            fuzz = subprocess.run(
                [
                    str(BIN / "schemathesis"),
                    "run",
                    f"{base}/openapi.json",
                    "-H",
                    f"Authorization: Bearer {key}",
                    "--checks",
                    ",".join(CHECKS),
                    "--max-examples",
                    str(examples),
                    "--workers",
                    str(workers),
                    "--no-color",
                    "--report",
                    "json",
                    "--report-json-path",
                    str(report),
                ],
                env=fuzz_env,
                capture_output=True,
                text=True,
                check=False,
            )
            healthy = httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        finally:
            server.stop()
        verify = run_mamori(env, "audit", "verify", check=False)
        server_log = log_path.read_text(errors="replace")
        server_errors = [
            line
            for line in server_log.splitlines()
            if "Traceback" in line or "request failed" in line
        ]
        if not report.exists():
            print(fuzz.stdout[-4000:], fuzz.stderr[-4000:], sep="\n")
            print("probe: Schemathesis wrote no report")
            return 1
        result = json.loads(report.read_text())
        answers = _statuses(server_log)
    cases = result["test_cases"]
    failures = result["failures"]
    backend = "PostgreSQL" if database_url else "SQLite"
    print(
        f"api probe ({backend}): {cases['generated']} cases over "
        f"{result['operations']['tested']}/{result['operations']['total']} operations, "
        f"{cases['with_failures']} with failures ({cases['unique_failures']} unique), "
        f"{cases['errored']} errored; server healthy: {healthy}; "
        f"server errors logged: {len(server_errors)}; audit verify: "
        f"{'ok' if verify.returncode == 0 else 'FAILED'}; "
        f"{time.monotonic() - started:.0f} s (seed {result['seed']})"
    )
    print("answers by status (2xx reached the logic; 4xx were refused):")
    for route, counts in sorted(answers.items(), key=lambda kv: -sum(kv[1].values()))[:30]:
        spread = " ".join(f"{status}:{n}" for status, n in sorted(counts.items()))
        print(f"  {route:<52} {spread}")
    ok = (
        fuzz.returncode == 0
        and not failures
        and cases["errored"] == 0
        and cases["generated"] >= min_cases
        and healthy
        and not server_errors
        and verify.returncode == 0
    )
    if not ok:
        print(fuzz.stdout[-8000:])
        for line in server_errors[:20]:
            print(f"server: {line}")
        if verify.returncode != 0:
            print(f"audit verify: {verify.stderr.strip() or verify.stdout.strip()}")
        if cases["generated"] < min_cases:
            print(f"probe: only {cases['generated']} cases; at least {min_cases} are required")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--examples", type=int, default=100, help="cases per operation and phase")
    parser.add_argument("--min-cases", type=int, default=2000)
    # One worker: with two, Hypothesis describes strategies (ast.parse of lambdas) in two
    # threads at once, and CPython 3.11's parser can fail with "AST constructor recursion depth
    # mismatch" (a Schemathesis runtime error, not a finding). One worker is deterministic.
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    sys.exit(run(args.database_url, args.examples, args.min_cases, args.workers))


if __name__ == "__main__":
    main()
