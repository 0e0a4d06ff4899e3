"""The application factory: settings, the database, mamori's client, the pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from mamori.client import Client
from yobunara.people import People
from yobunara.settings import Settings
from yobunara.storage import Store
from yobunara.web import couple, guests, hooks
from yobunara.web.common import Service

__all__ = ["create_app"]

STATIC = Path(__file__).resolve().parents[1] / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    client = Client(settings.mamori_url, settings.api_key)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        client.close()

    app = FastAPI(
        title="Yobunara", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.yobunara = Service(
        settings, Store(settings.database), People(client, dietary_item=settings.dietary_item)
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(couple.router)
    app.include_router(guests.router)
    app.include_router(hooks.router)

    return app
