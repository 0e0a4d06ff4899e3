"""Yobunara's pages (server-rendered, Japanese first) and its webhook receiver."""

from __future__ import annotations

from yobunara.web.app import create_app

__all__ = ["create_app"]
