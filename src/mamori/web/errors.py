"""The one table that maps domain errors to HTTP statuses."""

from __future__ import annotations

from mamori.errors import (
    ConfigError,
    DatabaseUnavailable,
    MamoriError,
    NotFound,
    UserInputError,
)

__all__ = ["status_for"]

_STATUS: tuple[tuple[type[MamoriError], int], ...] = (
    (NotFound, 404),
    (ConfigError, 500),
    (UserInputError, 400),
    (DatabaseUnavailable, 503),
)


def status_for(error: MamoriError) -> int:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 500
