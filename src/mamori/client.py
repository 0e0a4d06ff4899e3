"""A typed Python client of mamori's REST API, for host services (and mamori's own tests).

    from mamori.client import Client

    with Client("https://privacy.example.jp", api_key=os.environ["MAMORI_API_KEY"]) as mamori:
        subject = mamori.create_subject("customer", external_id="u-123",
                                        items={"email": "hanako@example.jp"})
        result = mamori.read(subject, purpose="service_operation", items=["email"])
        result.items["email"], result.refused

Errors from the server raise :class:`mamori.errors.ApiError` with the HTTP status and the
server's one-line message. Results are the API's own response models
(:mod:`mamori.web.api.schemas`), checked as they arrive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx
import orjson

from mamori.errors import ApiError
from mamori.web.api.schemas import (
    AcquisitionOut,
    ConsentOut,
    CookieConsentLinkOut,
    EventsOut,
    PersonConsentsOut,
    PolicyChangeOut,
    ProvisionConsentOut,
    ProvisionOut,
    ReadByOut,
    ReadOut,
    RequestOut,
    StatisticsOut,
    UsageSettingsOut,
)

__all__ = [
    "Acquisition",
    "Client",
    "EventsResult",
    "PolicyChange",
    "PolicyConsent",
    "PolicyConsents",
    "Provision",
    "ProvisionConsent",
    "ReadResult",
    "RequestStatus",
    "Statistics",
    "UsageSettings",
]


ReadResult = ReadOut
"""What a read released, refused (item -> reason code) and found missing."""
UsageSettings = UsageSettingsOut
"""A person's usage stops (``.stopped_items``, ``.stopped_purposes``) and withdrawal state."""
RequestStatus = RequestOut
"""A person's request as the API reports it (no personal details)."""
EventsResult = EventsOut
"""How many events were stored, dropped, and why."""
Provision = ProvisionOut
"""A provision: per person the values provided, the items refused (with why) and the record."""
ProvisionConsent = ProvisionConsentOut
"""A person's consent to a recipient for a purpose."""
Statistics = StatisticsOut
"""A grouped count: its cells and totals, each with its value or ``suppressed``."""
Acquisition = AcquisitionOut
"""The record of data about a person received from another business (APPI 30)."""
PolicyChange = PolicyChangeOut
"""What a published version changed: its level and the (item, purpose) uses needing consent."""
PolicyConsent = ConsentOut
"""A person's consent to the change of a policy version."""
PolicyConsents = PersonConsentsOut
"""A person's pending and given consents to policy changes."""


class Client:
    """A synchronous client. Use it as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "mamori-client"},
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise _error(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # -- subjects ----------------------------------------------------------------------------

    def create_subject(
        self,
        type: str,
        *,
        external_id: str | None = None,
        items: Mapping[str, Any] | None = None,
    ) -> str:
        body = {"type": type, "external_id": external_id, "items": dict(items or {})}
        result: dict[str, str] = self._call("POST", "/subjects", json=body)
        return result["id"]

    def write(self, subject_id: str, items: Mapping[str, Any | None]) -> None:
        """Set items; a None value deletes the item (needs the delete operation)."""
        self._call("PATCH", f"/subjects/{subject_id}/items", json=dict(items))

    def read(
        self, subject_id: str, *, purpose: str, items: Sequence[str] | None = None
    ) -> ReadResult:
        """Read ``items`` of the person for ``purpose``; without ``items``, every item the
        purpose allows for the person's type. ``.kinds`` gives each released value's kind."""
        params = {"purpose": purpose}
        if items is not None:
            params["items"] = ",".join(items)
        body = self._call("GET", f"/subjects/{subject_id}/items", params=params)
        return ReadOut.model_validate(body)

    def read_by(
        self, item: str, value: str, *, purpose: str, items: Sequence[str]
    ) -> dict[str, ReadResult]:
        """Find people whose ``item`` (e-mail, phone) is ``value`` and read ``items`` of each."""
        body = self._call(
            "GET",
            "/subjects/items",
            params={"item": item, "value": value, "purpose": purpose, "items": ",".join(items)},
        )
        return ReadByOut.model_validate(body).subjects

    def find(self, item: str, value: str) -> list[str]:
        """Subjects whose e-mail address or phone number (``item``) equals ``value``."""
        body = self._call("GET", "/subjects", params={"item": item, "value": value})
        return list(body["subjects"])

    def find_external(self, type: str, external_id: str) -> str | None:
        body = self._call("GET", "/subjects", params={"type": type, "external_id": external_id})
        found: list[str] = body["subjects"]
        return found[0] if found else None

    def restrictions(self, subject_id: str) -> UsageSettings:
        return UsageSettingsOut.model_validate(
            self._call("GET", f"/subjects/{subject_id}/restrictions")
        )

    def set_restrictions(
        self,
        subject_id: str,
        *,
        stopped_items: Sequence[str] = (),
        stopped_purposes: Sequence[str] = (),
    ) -> UsageSettings:
        body = {"stopped_items": list(stopped_items), "stopped_purposes": list(stopped_purposes)}
        return UsageSettingsOut.model_validate(
            self._call("PUT", f"/subjects/{subject_id}/restrictions", json=body)
        )

    def add_events(self, subject_id: str, events: Sequence[Mapping[str, Any]]) -> EventsResult:
        body = self._call(
            "POST", f"/subjects/{subject_id}/events", json={"events": [dict(e) for e in events]}
        )
        return EventsOut.model_validate(body)

    def center_link(self, subject_id: str) -> str:
        """A short-lived, single-use link that signs the person into the privacy center."""
        body = self._call("POST", f"/subjects/{subject_id}/center-link")
        url: str = body["url"]
        return url

    def withdraw(self, subject_id: str) -> None:
        self._call("POST", f"/subjects/{subject_id}/withdraw")

    def bulk_read(self, purpose: str, item: str) -> Iterator[tuple[str, Any]]:
        """(subject id, value) for everyone whose ``item`` may be used for ``purpose``; streams."""
        with self._http.stream("GET", f"/purposes/{purpose}/items/{item}") as response:
            if response.status_code >= 400:
                response.read()
                raise _error(response)
            for line in response.iter_lines():
                if line:
                    row = orjson.loads(line)
                    yield row["subject"], row["value"]

    # -- policy changes ----------------------------------------------------------------------

    def policy_changes(self) -> list[PolicyChange]:
        """What each published version changed, oldest first (public: no key needed)."""
        return [PolicyChangeOut.model_validate(c) for c in self._call("GET", "/policy/changes")]

    def policy_consents(self, subject_id: str) -> PolicyConsents:
        """The person's pending and given consents to policy changes (needs ``read``)."""
        answer = self._call("GET", f"/subjects/{subject_id}/policy-consents")
        return PersonConsentsOut.model_validate(answer)

    def give_policy_consent(self, subject_id: str, version: int) -> PolicyConsent:
        """Record the person's consent (obtained by the host) to the change of ``version``;
        idempotent (needs ``write``)."""
        answer = self._call(
            "POST", f"/subjects/{subject_id}/policy-consents", json={"version": version}
        )
        return ConsentOut.model_validate(answer)

    # -- people's requests -----------------------------------------------------------------

    def statistics(
        self,
        purpose: str,
        *,
        measure: str = "people",
        by: Sequence[str] = (),
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> Statistics:
        """Count people (or ``measure="events"``) of a statistics-only purpose, grouped ``by``
        up to two declared dimensions; a cell of fewer than k people comes back suppressed."""
        body = {
            "purpose": purpose,
            "measure": measure,
            "by": list(by),
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        }
        return StatisticsOut.model_validate(self._call("POST", "/statistics", json=body))

    def file_request(
        self,
        subject_id: str,
        type: str,
        *,
        email: str,
        language: str = "ja",
        items: Sequence[str] = (),
        ground: str | None = None,
        delivery: str | None = None,
        postal_address: str | None = None,
        message: str | None = None,
        corrections: Mapping[str, Any] | None = None,
    ) -> RequestStatus:
        """File a request for the signed-in person ``subject_id`` (verified by the service)."""
        body: dict[str, Any] = {
            "subject_id": subject_id,
            "type": type,
            "email": email,
            "language": language,
            "items": list(items),
        }
        optional = {
            "ground": ground,
            "delivery": delivery,
            "postal_address": postal_address,
            "message": message,
            "corrections": dict(corrections) if corrections is not None else None,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return RequestOut.model_validate(self._call("POST", "/requests", json=body))

    def request_status(self, request_id: str) -> RequestStatus:
        """The step, outcome and dates of a request."""
        return RequestOut.model_validate(self._call("GET", f"/requests/{request_id}"))

    # -- third-party provision ---------------------------------------------------------------

    def provide(
        self,
        recipient: str,
        *,
        subjects: Sequence[str],
        items: Sequence[str],
        purpose: str,
        basis: str | None = None,
        reason: str | None = None,
        contract: bool = False,
    ) -> Provision:
        """Provide items of people to a recipient; per person what went and what was refused
        (needs the ``provide`` operation and the purpose)."""
        body: dict[str, Any] = {
            "recipient": recipient,
            "subjects": list(subjects),
            "items": list(items),
            "purpose": purpose,
        }
        if basis is not None:
            body["basis"] = basis
        if reason is not None:
            body["reason"] = reason
        if contract:
            body["contract"] = True
        return ProvisionOut.model_validate(self._call("POST", "/provisions", json=body))

    def provide_everyone(
        self,
        recipient: str,
        *,
        item: str,
        purpose: str,
        basis: str | None = None,
        reason: str | None = None,
    ) -> Iterator[tuple[str, Any, str]]:
        """(subject id, value, record id) of ``item`` for everyone ``purpose`` may use whom the
        gate lets ``recipient`` receive it; streams (needs ``provide`` and the purpose)."""
        body: dict[str, Any] = {"recipient": recipient, "item": item, "purpose": purpose}
        if basis is not None:
            body["basis"] = basis
        if reason is not None:
            body["reason"] = reason
        with self._http.stream("POST", "/provisions/stream", json=body) as response:
            if response.status_code >= 400:
                response.read()
                raise _error(response)
            for line in response.iter_lines():
                if line:
                    row = orjson.loads(line)
                    yield row["subject"], row["value"], row["record_id"]

    def give_provision_consent(
        self, subject_id: str, *, recipient: str, purpose: str
    ) -> ProvisionConsent:
        """Record the person's consent (obtained by the host) to a recipient for a purpose."""
        body = {"recipient": recipient, "purpose": purpose}
        answer = self._call("POST", f"/subjects/{subject_id}/provision-consents", json=body)
        return ProvisionConsentOut.model_validate(answer)

    def provision_consents(self, subject_id: str) -> list[ProvisionConsent]:
        answer = self._call("GET", f"/subjects/{subject_id}/provision-consents")
        return [ProvisionConsentOut.model_validate(c) for c in answer]

    def revoke_provision_consent(self, subject_id: str, consent_id: str) -> None:
        self._call("DELETE", f"/subjects/{subject_id}/provision-consents/{consent_id}")

    def link_cookie_consent(self, subject_id: str, consent_id: str) -> CookieConsentLinkOut:
        """Say the person made the cookie choices of ``consent_id`` (their browser's
        ``mamori_consent`` cookie), so that a provision of person-related information can
        confirm their consent (APPI 31). Needs ``write``; idempotent."""
        answer = self._call(
            "POST", f"/subjects/{subject_id}/cookie-consents", json={"consent_id": consent_id}
        )
        return CookieConsentLinkOut.model_validate(answer)

    def record_acquisition(
        self,
        subject_id: str,
        *,
        provider: Mapping[str, Any],
        how_obtained: str,
        items: Sequence[str],
        received_at: dt.datetime | None = None,
        contract: bool = False,
    ) -> Acquisition:
        """Record that ``items`` of the person were received from another business (needs the
        ``write`` operation). ``provider`` is ``{"name": {"ja", "en"}, "address",
        "representative", "individual", "keeps_records"}``, as confirmed (APPI 30(1))."""
        body: dict[str, Any] = {
            "subject_id": subject_id,
            "provider": dict(provider),
            "how_obtained": how_obtained,
            "items": list(items),
            "contract": contract,
        }
        if received_at is not None:
            body["received_at"] = received_at.isoformat()
        return AcquisitionOut.model_validate(self._call("POST", "/acquisitions", json=body))

    def acquisitions(self, subject_id: str) -> list[Acquisition]:
        """The records of data received about the person, oldest first."""
        answer = self._call("GET", f"/subjects/{subject_id}/acquisitions")
        return [AcquisitionOut.model_validate(a) for a in answer]


def _error(response: httpx.Response) -> ApiError:
    try:
        message = str(response.json().get("error", response.text))
    except ValueError:
        message = response.text or response.reason_phrase
    return ApiError(response.status_code, message)
