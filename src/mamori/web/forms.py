"""Reading a submitted form, whole or refused: every page's forms go through :func:`read_form`.

Starlette's parser (python-multipart) accepts a ``multipart/form-data`` body that was cut short,
one without its closing boundary or ending inside a part, and hands the handler whatever parts
arrived (issue 10: such a body filed a request). :func:`read_form` reads the body first, within
a size limit (413 past it), refuses a multipart body whose closing delimiter is missing (400),
and only then parses it. ``application/x-www-form-urlencoded`` bodies carry no such marker and
are parsed as they are.
"""

from __future__ import annotations

from typing import Final

from fastapi import Request
from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData

from mamori.errors import UserInputError, ValueTooLarge

__all__ = ["MAX_FORM_BYTES", "read_form"]

MAX_FORM_BYTES: Final = 1024 * 1024
"""The largest form body read by default (a form that uploads a file says its own)."""


async def read_form(
    request: Request,
    *,
    max_files: int = 0,
    max_fields: int = 100,
    max_part_size: int = 1024 * 1024,
    max_bytes: int = MAX_FORM_BYTES,
) -> FormData:
    """The request's form; :class:`ValueTooLarge` past ``max_bytes``, :class:`UserInputError`
    for a multipart body that is not complete."""
    media_type, options = parse_options_header(request.headers.get("content-type", ""))
    if media_type == b"multipart/form-data":
        body = await _body(request, max_bytes)
        boundary = options.get(b"boundary", b"")
        close = b"--" + boundary + b"--"
        if not boundary or not (body.startswith(close) or b"\r\n" + close in body):
            raise UserInputError(
                "the form's body is incomplete (its closing boundary is missing): send it again"
            )
    return await request.form(
        max_files=max_files, max_fields=max_fields, max_part_size=max_part_size
    )


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ValueTooLarge(f"the form is {int(declared):,} bytes; the limit is {limit:,} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ValueTooLarge(f"the form is larger than {limit:,} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    # Starlette's own cache of the body: request.form() then parses these bytes, not the
    # (already consumed) stream.
    request._body = body
    return body
