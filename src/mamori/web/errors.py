"""The one table that maps domain errors to HTTP statuses (and the headers some statuses need)."""

from __future__ import annotations

from collections.abc import Mapping

from mamori.errors import (
    AuthenticationFailed,
    ConfigError,
    Conflict,
    DatabaseUnavailable,
    DownloadUnavailable,
    MamoriError,
    NotFound,
    PermissionDenied,
    RateLimited,
    SignInFailed,
    StaffSessionRequired,
    UserInputError,
    ValueTooLarge,
)

__all__ = ["headers_for", "status_for"]

_STATUS: tuple[tuple[type[MamoriError], int], ...] = (
    (AuthenticationFailed, 401),
    (StaffSessionRequired, 401),
    (SignInFailed, 401),
    (RateLimited, 429),
    (DownloadUnavailable, 410),
    (PermissionDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (ValueTooLarge, 413),
    (ConfigError, 500),
    (UserInputError, 400),
    (DatabaseUnavailable, 503),
)


def status_for(error: MamoriError) -> int:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 500


# RFC 6750 section 3: a 401 names the scheme the client must use.
_HEADERS: tuple[tuple[type[MamoriError], Mapping[str, str]], ...] = (
    (AuthenticationFailed, {"WWW-Authenticate": "Bearer"}),
)


def headers_for(error: MamoriError) -> Mapping[str, str] | None:
    """Headers the response to ``error`` must carry, if any."""
    for kind, headers in _HEADERS:
        if isinstance(error, kind):
            return headers
    return None
