"""A cap on the size of API request bodies, enforced as the bytes arrive.

FastAPI reads a JSON body whole before validating it, so without a cap one request could make
the server hold any amount of memory. A body declared larger than the cap (``Content-Length``)
is refused before it is read; a body sent in chunks is refused as soon as it passes the cap.
Either way the answer is a 413 with the API's error body. Forms have their own reader with the
same rule (:mod:`mamori.web.forms`), and the banner's choice its own smaller cap.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit", "api_body_limit"]


def api_body_limit(max_document_bytes: int) -> int:
    """The largest API body: one document in base64 and a megabyte for everything else."""
    return max_document_bytes * 4 // 3 + 1024 * 1024


def _has_body(scope: Scope) -> bool:
    """Whether the request says it carries a body (a length, or chunks)."""
    return any(name in (b"content-length", b"transfer-encoding") for name, _ in scope["headers"])


class BodyLimit:
    """Refuses request bodies under ``prefix`` larger than ``limit`` bytes with a 413."""

    def __init__(self, app: ASGIApp, *, limit: int, prefix: str = "/api/") -> None:
        self.app = app
        self.limit = limit
        self.prefix = prefix

    def _message(self) -> str:
        return f"the body is larger than {self.limit:,} bytes, the limit of this API"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not scope["path"].startswith(self.prefix)
            or (scope["method"] in ("GET", "HEAD") and not _has_body(scope))
        ):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value.decode("latin-1").strip()
                if not declared.isdigit() or int(declared) > self.limit:
                    status = 413 if declared.isdigit() else 400
                    message = self._message() if status == 413 else "Content-Length is invalid"
                    response = JSONResponse(
                        {"error": message, "status": status},
                        status_code=status,
                        headers={"Connection": "close"},
                    )
                    await response(scope, receive, send)
                    return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # Raised inside the route's body read: FastAPI lets an HTTPException
                    # through, and mamori.web.errors answers it with the API's body.
                    raise HTTPException(413, self._message())
            return message

        await self.app(scope, limited, send)
