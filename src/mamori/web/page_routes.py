"""Route classes of the pages people see: ``no-store``, and mamori's errors as pages.

FastAPI's exception handlers answer API errors as JSON for the whole app; the pages of the
privacy center, the request forms and the mail opt-out instead show an error in the person's
language, with their own layout. Each router says how with ``route_class=page_route(problem)``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from mamori.errors import MamoriError

__all__ = ["Problem", "page_route"]

Problem = Callable[[Request, MamoriError], Response]
"""Turns an error raised by a page's handler into the page shown instead (or re-raises it)."""


def page_route(problem: Problem) -> type[APIRoute]:
    """A route class whose responses are ``no-store`` and whose errors become ``problem`` pages."""

    class PageRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def route(request: Request) -> Response:
                try:
                    response = await handler(request)
                except MamoriError as exc:
                    response = problem(request, exc)
                response.headers["Cache-Control"] = "no-store"
                return response

            return route

    return PageRoute
