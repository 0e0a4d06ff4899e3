"""uvicorn's access log without query strings.

Query strings can hold personal data: the vault's look-ups by e-mail or phone
(``GET /api/v1/subjects?item=email&value=...``) and sign-in tokens. The access log records the
method, the path, the status and the client address, and never what follows ``?``. Tokens
carried in the path (the mail opt-out links, ``/mail/unsubscribe/<token>``) are replaced by
``<token>``.
"""

from __future__ import annotations

import logging
import re
from typing import Final

__all__ = ["install"]

_LOGGER: Final = "uvicorn.access"
_PATH_TOKEN: Final = re.compile(r"^(/mail/unsubscribe/)[^/?]+")


class _NoQuery(logging.Filter):
    """Cuts the query string off the request target of uvicorn's access-log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn logs '%s - "%s %s HTTP/%s" %d' with (client, method, target, version, status)
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            target = _PATH_TOKEN.sub(r"\1<token>", args[2].split("?", 1)[0])
            if target != args[2]:
                record.args = (args[0], args[1], target, args[3], args[4])
        return True


def install() -> None:
    """Add the filter to uvicorn's access logger, once per process."""
    logger = logging.getLogger(_LOGGER)
    if not any(isinstance(f, _NoQuery) for f in logger.filters):
        logger.addFilter(_NoQuery())
