"""A person whose disclosure package holds documents (a PNG image and a PDF), and their bytes."""

from __future__ import annotations

import base64
import struct
import zlib

from mamori.app import Runtime
from tests.helpers.requests import person


def png(width: int = 48, height: int = 32) -> bytes:
    """A real PNG image (a blue frame on white), small enough for a test."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b""
    for y in range(height):
        rows += b"\x00"
        for x in range(width):
            edge = x < 4 or y < 4 or x >= width - 4 or y >= height - 4
            rows += b"\x1a\x4f\x8b" if edge else b"\xff\xff\xff"
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
"""A minimal PDF document."""


def person_with_documents(runtime: Runtime) -> str:
    """山田 花子 with an identity document (PNG) and content (PDF) stored."""
    return person(
        runtime,
        identity_document={"content_type": "image/png", "data": base64.b64encode(png()).decode()},
        content={
            "kind": "document",  # content holds text, a link or a document
            "value": {"content_type": "application/pdf", "data": base64.b64encode(PDF).decode()},
        },
    )
