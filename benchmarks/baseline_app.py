"""The baseline of ``./dev bench vault-http`` (issue 17): what a service would run without mamori.

Two apps on one uvicorn, served the way ``mamori serve`` serves (worker processes started by
multiprocessing's spawn, each with its own ``SO_REUSEPORT`` socket, uvicorn's defaults):

* ``GET /healthz``: a raw ASGI answer, no framework at all: the floor of what a request costs
  on this uvicorn;
* ``GET /people/{id}?fields=email,name,phone``: a plain FastAPI + SQLAlchemy 2 app reading the
  same three fields of the same people from an unencrypted table (``plain_people``), with a
  bearer token compared like an API key would be, a pooled connection per request, a Pydantic
  response model; no encryption, no purpose check, no audit entry;
* ``GET /people?email=...&fields=email,name,phone``: the same read found by an indexed e-mail
  column (``ix_plain_people_email``), the plain equivalent of the vault's blind-index lookup;
* ``POST /receipts``: a consent choice (the banner's JSON, ``text/plain``) stored as one plain
  ``INSERT`` of a row (``plain_receipts``), answered 201 with its consent ID: the plain
  equivalent of ``POST /consent/receipts`` (no hash chain, no group commit, no audit anchor).

``python -m benchmarks.baseline_app URL PORT WORKERS`` serves it; :func:`seed` fills the table.
"""

from __future__ import annotations

import datetime as dt
import hmac
import multiprocessing
import os
import signal
import socket
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

__all__ = ["TOKEN_VARIABLE", "create", "seed", "seed_receipts", "serve"]

TOKEN_VARIABLE = "BASELINE_TOKEN"

_metadata = sa.MetaData()
plain_people = sa.Table(
    "plain_people",
    _metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("email", sa.String(320)),
    sa.Column("name", sa.String(200)),
    sa.Column("phone", sa.String(40)),
    sa.Index("ix_plain_people_email", "email"),
)
plain_receipts = sa.Table(
    "plain_receipts",
    _metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("consent_id", sa.String(64), nullable=False),
    sa.Column("policy_version", sa.Integer, nullable=False),
    sa.Column("text_hash", sa.String(64), nullable=False),
    sa.Column("method", sa.String(20), nullable=False),
    sa.Column("choices", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

_FIELDS = ("email", "name", "phone")
_bearer = HTTPBearer()


class Person(BaseModel):
    id: str
    items: dict[str, str | None]


class People(BaseModel):
    people: list[Person]


class Choice(BaseModel):
    consent_id: str
    version: int
    hash: str
    method: str
    categories: dict[str, bool]
    services: dict[str, bool]


def seed(url: str, people: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """``plain_people`` with (id, items) of each person, in clear."""
    engine = sa.create_engine(url)
    try:
        _metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(
                plain_people.insert(),
                [{"id": i, **{f: items.get(f) for f in _FIELDS}} for i, items in people],
            )
    finally:
        engine.dispose()


def seed_receipts(url: str) -> None:
    """An empty ``plain_receipts`` table (and ``plain_people``) in ``url``'s database."""
    engine = sa.create_engine(url)
    try:
        _metadata.create_all(engine)
    finally:
        engine.dispose()


def create(url: str, token: str) -> Any:
    """The baseline's ASGI app: raw ``/healthz``, the rest FastAPI."""
    engine = sa.create_engine(url, pool_size=10)
    api = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    def caller(credentials: Annotated[HTTPAuthorizationCredentials, Depends(_bearer)]) -> None:
        if not hmac.compare_digest(credentials.credentials, token):
            raise HTTPException(401, "unknown token")

    # Local names cannot appear in the annotations (they are strings, resolved in the module).
    @api.get("/people/{person_id}", response_model=Person, dependencies=[Depends(caller)])
    def read_person(person_id: str, fields: Annotated[str, Query()] = ",".join(_FIELDS)) -> Person:
        wanted = [f for f in fields.split(",") if f in _FIELDS]
        with engine.connect() as conn:
            row = conn.execute(
                sa.select(*(plain_people.c[f] for f in wanted)).where(
                    plain_people.c.id == person_id
                )
            ).first()
        if row is None:
            raise HTTPException(404, "no such person")
        return Person(id=person_id, items=dict(zip(wanted, row, strict=True)))

    @api.get("/people", response_model=People, dependencies=[Depends(caller)])
    def find_people(
        email: Annotated[str, Query(max_length=320)],
        fields: Annotated[str, Query()] = ",".join(_FIELDS),
    ) -> People:
        wanted = [f for f in fields.split(",") if f in _FIELDS]
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(plain_people.c.id, *(plain_people.c[f] for f in wanted)).where(
                    plain_people.c.email == email.strip().lower()
                )
            ).all()
        return People(
            people=[
                Person(id=row[0], items=dict(zip(wanted, row[1:], strict=True))) for row in rows
            ]
        )

    @api.post("/receipts", status_code=201)
    async def record(request: Request) -> dict[str, str]:
        choice = Choice.model_validate_json(await request.body())  # text/plain, as the banner
        row = {
            "consent_id": choice.consent_id,
            "policy_version": choice.version,
            "text_hash": choice.hash,
            "method": choice.method,
            "choices": choice.model_dump_json(include={"categories", "services"}),
            "created_at": dt.datetime.now(dt.UTC),
        }
        await run_in_threadpool(_insert, row)
        return {"consent_id": choice.consent_id}

    def _insert(row: dict[str, Any]) -> None:
        with engine.begin() as conn:
            conn.execute(plain_receipts.insert(), row)

    body = b'{"status":"ok"}'
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"15")],
    }

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/healthz":
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        await api(scope, receive, send)

    return app


def _worker(url: str, port: int, token: str) -> None:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    config = uvicorn.Config(create(url, token), log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def serve(url: str, port: int, workers: int) -> None:
    """Serve the baseline on 127.0.0.1:``port`` with ``workers`` processes until SIGTERM."""
    token = os.environ[TOKEN_VARIABLE]
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_worker, args=(url, port, token), name="baseline-worker")
        for _ in range(workers)
    ]
    for process in processes:
        process.start()

    def stop(_signal: int, _frame: object) -> None:
        for process in processes:
            process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for process in processes:
        process.join()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
