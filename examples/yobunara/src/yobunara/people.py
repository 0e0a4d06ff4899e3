"""Everything Yobunara knows about people, kept in mamori and reached through its client.

Each read names its purpose: the invitation page and the couple's guest list read for
``service_operation``, the address list for the return gifts (引き出物) for ``shipping``. mamori
decides every item on its own and says why it withheld one (``refused``): a guest who stopped
the use of their address is shown as stopped, never dropped from the list.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mamori.client import Client, ReadResult
from mamori.errors import ApiError

__all__ = ["Device", "People", "Profile", "Row"]

SERVICE = "service_operation"
SHIPPING = "shipping"
TYPE = "customer"  # the policy's お客さま: the couple and their guests alike


@dataclass(frozen=True)
class Row:
    """One answer as mamori released it: values, and the items withheld with mamori's reason."""

    subject_id: str
    attending: bool
    values: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def stopped(self) -> bool:
        return any(r == "stopped_by_person" for r in self.refused.values())

    @property
    def withdrawn(self) -> bool:
        return any(r == "withdrawn" for r in self.refused.values())


@dataclass(frozen=True)
class Profile:
    values: dict[str, str]
    refused: dict[str, str]


@dataclass(frozen=True)
class Device:
    """What a request tells of the device (the policy's device_model, os_version, ip_address)."""

    model: str
    os_version: str
    ip_address: str | None

    @classmethod
    def of(cls, user_agent: str, ip_address: str | None) -> Device:
        ua = user_agent
        if "iPhone" in ua:
            model, os_name = "iPhone", "iOS"
        elif "iPad" in ua:
            model, os_name = "iPad", "iPadOS"
        elif "Android" in ua:
            model, os_name = "Android", "Android"
        elif "Windows" in ua:
            model, os_name = "PC", "Windows"
        elif "Macintosh" in ua:
            model, os_name = "Mac", "macOS"
        elif "Linux" in ua:
            model, os_name = "PC", "Linux"
        else:
            model, os_name = "unknown", "unknown"
        try:
            ip = str(ipaddress.ip_address(ip_address)) if ip_address else None
        except ValueError:  # a proxy's or a test client's name, not an address
            ip = None
        return cls(model, os_name, ip)


def _plain(value: Any) -> str:
    """An item that allows several kinds (``content``) comes as ``{kind, value}``."""
    if isinstance(value, dict) and "value" in value:
        value = value["value"]
    if isinstance(value, dict):  # a structured address
        return " ".join(str(v) for v in value.values())
    return str(value)


def _released(result: ReadResult) -> dict[str, str]:
    return {item: _plain(value) for item, value in result.items.items()}


class People:
    """The service's one door to people's data: mamori's client, and nothing stored here."""

    def __init__(self, client: Client, *, dietary_item: str = "dietary") -> None:
        self.client = client
        self.dietary_item = dietary_item
        self._dietary: tuple[float, int | None] = (0.0, None)
        self._lock = threading.Lock()

    # -- the couple --------------------------------------------------------------------------

    def sign_up(self, account_id: str, *, name: str, email: str, address: str, phone: str) -> str:
        items = {"name": name, "email": email, "address": address, "phone": phone}
        return self.client.create_subject(TYPE, external_id=account_id, items=items)

    def subjects_with_email(self, email: str) -> list[str]:
        return self.client.find("email", email)

    def profile(self, subject_id: str) -> Profile:
        result = self.client.read(
            subject_id, purpose=SERVICE, items=["name", "email", "phone", "address"]
        )
        return Profile(_released(result), dict(result.refused))

    def set_greeting(self, subject_id: str, text: str) -> None:
        """The couple's greeting is their content (the policy's ``content``, kind text)."""
        self.client.write(subject_id, {"content": {"kind": "text", "value": text}})

    def invitation_face(self, subject_id: str) -> Profile:
        """What the invitation shows of the couple: their name and greeting."""
        result = self.client.read(subject_id, purpose=SERVICE, items=["name", "content"])
        return Profile(_released(result), dict(result.refused))

    def center_link(self, subject_id: str) -> str:
        return self.client.center_link(subject_id)

    # -- guests ------------------------------------------------------------------------------

    def add_guest(
        self, answer_id: str, *, name: str, email: str, address: str, message: str
    ) -> str:
        items: dict[str, Any] = {"name": name, "email": email}
        if address:
            items["address"] = address
        if message:
            items["content"] = {"kind": "text", "value": message}
        return self.client.create_subject(TYPE, external_id=answer_id, items=items)

    def dietary_version(self) -> int | None:
        """The published version that added the dietary item (its consent is what the guest
        gives), or None while the policy does not declare it. Once found, it is remembered for
        a minute; until then every page asks (the list of changes is small and public)."""
        with self._lock:
            checked, version = self._dietary
            if version is not None and time.monotonic() - checked < 60:
                return version
        found = None
        for change in self.client.policy_changes():
            if any(item == self.dietary_item for item, _ in change.consent_uses):
                found = change.version
        with self._lock:
            self._dietary = (time.monotonic(), found)
        return found

    def store_dietary(self, subject_id: str, version: int, text: str) -> None:
        """The guest agreed: record their consent to the change, then store the item."""
        self.client.give_policy_consent(subject_id, version)
        self.client.write(subject_id, {self.dietary_item: text})

    def link_browser(self, subject_id: str, consent_id: str) -> None:
        """Tie the browser's cookie choice (``mamori_consent``) to the guest: one set of
        preferences wherever they meet the banner. A choice not recorded yet is skipped."""
        with contextlib.suppress(ApiError):
            self.client.link_cookie_consent(subject_id, consent_id)

    def record_view(self, subject_id: str, device: Device, *, action: str) -> None:
        """A usage event of the person in mamori's event store (kept as the policy says)."""
        event: dict[str, Any] = {
            "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
            "action": action,
            "device_model": device.model,
            "os_version": device.os_version,
        }
        if device.ip_address:
            event["ip_address"] = device.ip_address
        self.client.add_events(subject_id, [event])

    # -- the couple's lists ------------------------------------------------------------------

    def _rows(
        self, answers: Sequence[tuple[str, bool]], purpose: str, items: list[str]
    ) -> list[Row]:
        rows = []
        for subject_id, attending in answers:
            try:
                result = self.client.read(subject_id, purpose=purpose, items=items)
            except ApiError as error:
                if error.status not in (404, 409):
                    raise
                rows.append(Row(subject_id, attending, {}, dict.fromkeys(items, "withdrawn")))
                continue
            rows.append(Row(subject_id, attending, _released(result), dict(result.refused)))
        return rows

    def guest_list(self, answers: Sequence[tuple[str, bool]]) -> list[Row]:
        """Name, e-mail, message (and dietary requirements) of each guest, for the service."""
        items = ["name", "email", "content"]
        if self.dietary_version() is not None:
            items.append(self.dietary_item)
        return self._rows(answers, SERVICE, items)

    def shipping_list(self, answers: Sequence[tuple[str, bool]]) -> list[Row]:
        """Name and address of each attending guest, for shipping the return gifts."""
        return self._rows([a for a in answers if a[1]], SHIPPING, ["name", "address"])
