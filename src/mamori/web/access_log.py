"""uvicorn's access log without query strings.

Query strings can hold personal data: the vault's look-ups by e-mail or phone
(``GET /api/v1/subjects?item=email&value=...``) and sign-in tokens. The access log records the
method, the path, the status and the client address, and never what follows ``?``.
"""

from __future__ import annotations

import logging
from typing import Final

__all__ = ["install"]

_LOGGER: Final = "uvicorn.access"


class _NoQuery(logging.Filter):
    """Cuts the query string off the request target of uvicorn's access-log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn logs '%s - "%s %s HTTP/%s" %d' with (client, method, target, version, status)
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            target = args[2]
            if "?" in target:
                record.args = (args[0], args[1], target.split("?", 1)[0], args[3], args[4])
        return True


def install() -> None:
    """Add the filter to uvicorn's access logger, once per process."""
    logger = logging.getLogger(_LOGGER)
    if not any(isinstance(f, _NoQuery) for f in logger.filters):
        logger.addFilter(_NoQuery())
