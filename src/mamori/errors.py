"""The one exception hierarchy of mamori.

Every error mamori raises on purpose derives from :class:`MamoriError`. Each subclass's
docstring is its default message. Domain errors carry no HTTP status: ``mamori.web.errors``
maps them with one table, and the CLI maps them to one line and a non-zero exit code.

Messages never contain personal data: they name IDs, paths and settings, never values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ApiError",
    "AuditEntryError",
    "AuditError",
    "AuthenticationFailed",
    "BackupError",
    "CenterActionNotAllowed",
    "CenterLinkExpired",
    "CenterLinkInvalid",
    "CenterSessionRequired",
    "CodeLocked",
    "CodeRejected",
    "ConfigError",
    "Conflict",
    "ConsentChoiceInvalid",
    "ConsentOriginRefused",
    "ConsentReceiptsTampered",
    "ContractorEntryInvalid",
    "ContractorKeyRefused",
    "ContractorNotFound",
    "CsrfRejected",
    "DatabaseUnavailable",
    "DatasetError",
    "DatasetStepFailed",
    "DatasetUnavailable",
    "DecryptionFailed",
    "DifferencingRefused",
    "DownloadUnavailable",
    "EntrustmentSuspended",
    "IncidentEntryInvalid",
    "IncidentNotClosable",
    "IncidentNotFound",
    "InvalidTransition",
    "InvalidValue",
    "KeyFileError",
    "MailDeliveryFailed",
    "MailTemplateError",
    "MamoriError",
    "MasterKeyInUse",
    "NotFound",
    "NotStoppable",
    "PermissionDenied",
    "PolicyError",
    "PolicyFileError",
    "PolicyNotPublished",
    "Problem",
    "RateLimited",
    "ReasonRequired",
    "ReauthRequired",
    "ReportUnavailable",
    "RequestNotFound",
    "RequestNotVerified",
    "RequestSessionRequired",
    "SecondFactorRejected",
    "SecondFactorRequired",
    "ShredLogError",
    "SignInFailed",
    "SignInLocked",
    "StaffConflict",
    "StaffNotFound",
    "StaffRoleRequired",
    "StaffSessionRequired",
    "SubjectNotFound",
    "SubjectWithdrawn",
    "UnknownItem",
    "UnknownPurpose",
    "UnknownSubjectType",
    "UnsubscribeLinkInvalid",
    "UnsupportedLanguage",
    "UnsupportedMediaType",
    "UserInputError",
    "ValueTooLarge",
    "WeakPassword",
]


class MamoriError(Exception):
    """mamori could not complete the operation."""

    exit_code = 1

    def __init__(self, message: str | None = None) -> None:
        self.message = message or (self.__doc__ or "error").strip().splitlines()[0]
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class UserInputError(MamoriError):
    """The input is not valid."""

    exit_code = 2


class NotFound(UserInputError):
    """The requested object does not exist."""


class ConfigError(UserInputError):
    """A setting is missing or invalid."""


class KeyFileError(ConfigError):
    """The master-key file cannot be read or has unsafe permissions."""


class ShredLogError(ConfigError):
    """The shred log cannot be written or does not verify; nothing was changed."""


class BackupError(ConfigError):
    """The backup or the restore could not be made; the database is unchanged."""


class DatabaseUnavailable(MamoriError):
    """The database cannot be reached; check MAMORI_DATABASE_URL and that the server is running."""

    exit_code = 3


class PolicyNotPublished(NotFound):
    """No policy has been published yet; run `mamori policy publish PATH`."""


class UnknownItem(UserInputError):
    """The data item is not declared in the published policy."""


class UnknownPurpose(UserInputError):
    """The purpose is not declared in the published policy."""


class UnknownSubjectType(UserInputError):
    """The kind of data subject is not declared in the published policy."""


class SubjectNotFound(NotFound):
    """No such subject."""


class Conflict(UserInputError):
    """The request conflicts with the current state."""


class SubjectWithdrawn(Conflict):
    """The subject has withdrawn; nothing more can be stored for them."""


class ValueTooLarge(UserInputError):
    """A value is larger than the configured limit."""


class UnsupportedMediaType(UserInputError):
    """The body is not of a type this endpoint reads."""


class UnsupportedLanguage(UserInputError):
    """unsupported language in ?lang=: use ja or en"""


class NotStoppable(UserInputError):
    """This item or purpose is essential to the service: it stops only on withdrawal."""


class ApiError(MamoriError):
    """The mamori server refused the request."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(f"{status}: {message}")


class AuditError(MamoriError):
    """The audit log is not intact."""

    exit_code = 4


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in a policy file, located by line and by path inside the document."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class PolicyFileError(UserInputError):
    """The policy file cannot be read."""


class PolicyError(UserInputError):
    """The policy declaration has mistakes."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        first = str(self.problems[0]) if self.problems else ""
        summary = f"{count} problem{'s' if count != 1 else ''} in the policy"
        super().__init__(f"{summary}: {first}" if count == 1 else summary)


class DatasetError(UserInputError):
    """A dataset declaration has mistakes."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        first = str(self.problems[0]) if self.problems else ""
        summary = f"{count} problem{'s' if count != 1 else ''} in the datasets"
        super().__init__(f"{summary}: {first}" if count == 1 else summary)


class DatasetUnavailable(MamoriError):
    """A connected database cannot be reached (its setting unset, or the server down)."""

    exit_code = 3


class DatasetStepFailed(MamoriError):
    """A step of an erasure in a connected database failed; the erasure stopped there."""


class AuditEntryError(UserInputError):
    """An audit entry may hold only identifiers and codes, never personal data."""


class AuthenticationFailed(UserInputError):
    """Authentication required: send `Authorization: Bearer <key>` (see `mamori keys create`).

    Raised for a missing, malformed, unknown or revoked API key. The message never repeats the
    key (nor any part of its secret).
    """


class PermissionDenied(UserInputError):
    """This API key may not perform this operation; create a key with the operation it needs."""


class DecryptionFailed(MamoriError):
    """A stored value or key does not decrypt: a wrong key, or data moved from another row.

    The message names only IDs (subject, item, key context), never the value.
    """


class InvalidValue(UserInputError):
    """The value is not valid for its data item.

    The message names the item and the problem (``item 'email': not a valid e-mail address``),
    never the value.
    """


class MasterKeyInUse(UserInputError):
    """The master-key version still wraps data keys; run `mamori keys rotate` first."""


class CenterLinkInvalid(UserInputError):
    """This privacy-center link is not valid: ask the service for a new link."""


class CenterLinkExpired(CenterLinkInvalid):
    """This privacy-center link has expired or has been used: ask the service for a new link."""


class CenterSessionRequired(UserInputError):
    """No privacy-center session: open the privacy center through the service's link."""


class CenterActionNotAllowed(PermissionDenied):
    """This privacy-center link does not allow that: ask the service or its contact desk."""


class CsrfRejected(PermissionDenied):
    """The form's CSRF token is missing or wrong: reload the page and send the form again."""


# -- people's requests (mamori.requests) --------------------------------------------------


class RequestNotFound(NotFound):
    """No such request."""


class InvalidTransition(Conflict):
    """The request cannot move to that step from where it is now."""


class RequestNotVerified(Conflict):
    """The request's identity check is not complete: an unverified request cannot be fulfilled."""


class ReasonRequired(UserInputError):
    """A refusal (or a substitute measure) needs a reason the person can read: write one."""


class CodeRejected(UserInputError):
    """The confirmation code is wrong or has expired: check the e-mail, or ask for a new code."""


class CodeLocked(PermissionDenied):
    """Too many wrong confirmation codes: ask for a new code."""


class RateLimited(UserInputError):
    """Too many confirmation codes were asked for: wait a while and try again."""


class RequestSessionRequired(UserInputError):
    """Confirm it is you first: enter the code sent by e-mail, or ask for a new one."""


class DownloadUnavailable(Conflict):
    """The download is no longer available (expired or used up): ask the operator for a new one."""


# -- staff accounts and the admin console (mamori.staff) ----------------------------------


class StaffNotFound(NotFound):
    """No such staff account."""


class StaffConflict(Conflict):
    """The staff account cannot be changed that way."""


class WeakPassword(UserInputError):
    """A staff password must be at least 12 characters long."""


class SignInFailed(UserInputError):
    """The login ID or the password is wrong (or the account is disabled)."""


class SignInLocked(RateLimited):
    """Too many failed sign-ins: wait before trying again.

    ``retry_after`` is the number of seconds until the lock ends.
    """

    def __init__(self, message: str | None = None, *, retry_after: int = 0) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class StaffSessionRequired(UserInputError):
    """Sign in to the admin console first (at /admin/login)."""


class SecondFactorRejected(UserInputError):
    """The code is wrong or was already used: type the current 6-digit code from your
    authenticator app, or an unused recovery code."""


class SecondFactorRequired(Conflict):
    """This staff account signs in with a second factor: use the admin console's sign-in."""


class ReauthRequired(PermissionDenied):
    """This action needs you to confirm who you are again: sign in again at /admin/reauth."""


class StaffRoleRequired(PermissionDenied):
    """Your staff role does not allow this action; ask the privacy manager."""

    def __init__(self, message: str | None = None, *, permission: str | None = None) -> None:
        super().__init__(message)
        self.permission = permission  # what was needed (``audit.view``), for the console's page


# -- outgoing mail (mamori.mail) ----------------------------------------------------------


class MailTemplateError(ConfigError):
    """A mail template is missing, lacks a language, or does not render.

    The message names the template, the language and the file, never a value from the context.
    """


class MailDeliveryFailed(MamoriError):
    """The SMTP server did not accept the mail; check the MAMORI_SMTP_* settings.

    The message names the error type and the mail's ID, never an address.
    """


class UnsubscribeLinkInvalid(UserInputError):
    """This unsubscribe link is not valid: use the link in a recent mail from us."""


class ConsentChoiceInvalid(UserInputError):
    """The cookie choice is not valid: name only the categories and services of the banner."""


class ConsentOriginRefused(PermissionDenied):
    """This site may not record cookie choices here: add its origin to MAMORI_CONSENT_ORIGINS."""


class ConsentReceiptsTampered(AuditError):
    """The chain of consent receipts is not intact; run `mamori consent verify`."""


# -- contractors (mamori.contractors) -----------------------------------------------------


class ContractorNotFound(NotFound):
    """No such contractor: the published policy declares no recipient of that id with the
    relationship ``contractor``."""


class ContractorEntryInvalid(UserInputError):
    """An entry of the register of contractors is not valid.

    ``field`` names the form field (``signed_on``, ``items``, ...) and ``problem`` the kind of
    mistake (``not_a_date``, ``ends_before_start``, ...), so that a page can say it in the
    reader's language.
    """

    def __init__(self, message: str | None = None, *, field: str = "", problem: str = "") -> None:
        self.field = field
        self.problem = problem
        super().__init__(message)


class EntrustmentSuspended(Conflict):
    """The entrustment to this contractor is suspended (its contract is not in force, or its
    last supervision check failed): nothing goes to it until the register says otherwise."""


class ContractorKeyRefused(PermissionDenied):
    """A contractor's API key may only read the vault, for the items and purposes the policy
    entrusts to that contractor."""


# -- breaches (mamori.incidents) ----------------------------------------------------------------


class IncidentNotFound(NotFound):
    """No such incident in the register of breaches."""


class IncidentEntryInvalid(UserInputError):
    """An entry of the register of breaches is not valid.

    ``field`` names the form field (``aware_at``, ``items``, ...) and ``problem`` the kind of
    mistake (``missing``, ``not_a_time``, ...), so that a page can say it in the reader's
    language.
    """

    def __init__(self, message: str | None = None, *, field: str = "", problem: str = "") -> None:
        self.field = field
        self.problem = problem
        super().__init__(message)


class IncidentNotClosable(Conflict):
    """The incident cannot be closed yet: record its prevention measures (再発防止策) first."""


class ReportUnavailable(MamoriError):
    """The PDF of the report draft cannot be made on this server: WeasyPrint cannot load its
    system libraries (pango). The HTML draft prints the same document."""


# -- webhooks (mamori.webhooks) -----------------------------------------------------------------


class WebhookEndpointInvalid(UserInputError):
    """The webhook endpoint is not valid: give an https:// URL without credentials and at least
    one known event type."""


class WebhookNotFound(NotFound):
    """No such webhook endpoint or delivery."""


# -- statistics (mamori.statistics) -------------------------------------------------------------


class DifferencingRefused(Conflict):
    """The query is refused: the people it counts differ from those of an earlier query of the
    same purpose by fewer than k, so the two answers subtracted would describe those few. Widen
    the period, or ask the same query as before."""
