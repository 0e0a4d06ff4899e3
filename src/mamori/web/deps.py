"""What every route shares, defined once: the runtime, the settings and the page language.

Handlers call these with the request (``deps.runtime(request)``); the ``*Dep`` aliases are the
same as FastAPI dependencies. The dependencies are ``async`` although they do no I/O: FastAPI
runs a plain ``def`` dependency in the threadpool, two thread hand-offs per request for nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mamori.app import Runtime
from mamori.config import Settings
from mamori.web.i18n import Lang
from mamori.web.rendering import request_lang

__all__ = ["LangDep", "RuntimeDep", "SettingsDep", "lang", "runtime", "settings"]


def runtime(request: Request) -> Runtime:
    """The :class:`~mamori.app.Runtime` this app serves (opened by its lifespan)."""
    found: Runtime = request.app.state.runtime
    return found


def settings(request: Request) -> Settings:
    """The settings this app was created with."""
    found: Settings = request.app.state.settings
    return found


def lang(request: Request) -> Lang:
    """The page language (``?lang=``, Accept-Language, MAMORI_DEFAULT_LANGUAGE); a bad
    ``?lang=`` is a 400."""
    return request_lang(request)


async def _runtime_dep(request: Request) -> Runtime:
    return runtime(request)


async def _settings_dep(request: Request) -> Settings:
    return settings(request)


async def _lang_dep(request: Request) -> Lang:
    return lang(request)


RuntimeDep = Annotated[Runtime, Depends(_runtime_dep)]
SettingsDep = Annotated[Settings, Depends(_settings_dep)]
LangDep = Annotated[Lang, Depends(_lang_dep)]
