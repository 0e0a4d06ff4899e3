"""Reading a submitted form, whole or refused: every page's forms go through :func:`read_form`.

Starlette's parser (python-multipart) accepts a ``multipart/form-data`` body that was cut short,
one without its closing boundary or ending inside a part, and hands the handler whatever parts
arrived (issue 10: such a body filed a request). :func:`read_form` reads the body first, within
a size limit (413 past it), refuses a multipart body whose closing delimiter is missing (400),
and only then parses it. An ``application/x-www-form-urlencoded`` body must be what a browser
sends, ASCII with every other byte percent-encoded, and decode to UTF-8: Starlette would read
raw bytes as Latin-1 and replace undecodable ones, so a field could be stored as something the
person never typed (400 instead). A body of any other type is refused (415); an empty body is an
empty form (a one-click unsubscribe may send none).
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import unquote_to_bytes

from fastapi import Request
from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData

from mamori.errors import UnsupportedMediaType, UserInputError, ValueTooLarge

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
    for a multipart body that is not complete or a form that is not UTF-8,
    :class:`UnsupportedMediaType` for a body that is not a form."""
    media_type, options = parse_options_header(request.headers.get("content-type", ""))
    body = await _body(request, max_bytes)
    if media_type == b"multipart/form-data":
        boundary = options.get(b"boundary", b"")
        close = b"--" + boundary + b"--"
        if not boundary or not (body.startswith(close) or b"\r\n" + close in body):
            raise UserInputError(
                "the form's body is incomplete (its closing boundary is missing): send it again"
            )
        _check_multipart_text(body, boundary)
    elif media_type == b"application/x-www-form-urlencoded":
        _check_urlencoded(body, max_fields)
    elif body:
        shown = re.sub(r"[^\w.+/-]", "", media_type.decode("latin-1"))[:100] or "none"
        raise UnsupportedMediaType(
            f"this form takes application/x-www-form-urlencoded or multipart/form-data, not {shown}"
        )
    else:
        return FormData()
    return await request.form(
        max_files=max_files, max_fields=max_fields, max_part_size=max_part_size
    )


def _check_urlencoded(body: bytes, max_fields: int) -> None:
    if body.count(b"&") >= max_fields:
        raise UserInputError(f"the form has more than {max_fields} fields")
    if not body.isascii():
        raise UserInputError(
            "the form holds bytes that are not percent-encoded: send it from the page again"
        )
    for pair in body.split(b"&"):
        try:
            unquote_to_bytes(pair.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            raise UserInputError("the form is not UTF-8: send it from the page again") from None


def _check_multipart_text(body: bytes, boundary: bytes) -> None:
    """Every part that is not a file decodes as UTF-8 (Starlette would fall back to Latin-1)."""
    for part in body.split(b"--" + boundary):
        headers, _, data = part.partition(b"\r\n\r\n")
        if b"filename=" in headers:
            continue
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise UserInputError("the form is not UTF-8: send it from the page again") from None


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
