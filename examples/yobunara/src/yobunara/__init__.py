"""WEB招待状 Yobunara: a web-invitation service that keeps every personal value in mamori.

The couple's name, e-mail, address and phone, their greeting, and each guest's name, e-mail,
address, message and dietary requirements live in mamori's vault, written and read through
:mod:`mamori.client` for a declared purpose. The service's own SQLite database
(:mod:`yobunara.storage`) keeps only mamori's subject ids and data about no one: invitations'
dates, venues, designs and videos, attendance, password hashes, the webhooks it processed.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
