"""An e-mail address's normal form and its keyed hash.

The outbox and the opt-out list find an address by ``HMAC-SHA256(mail-address key, label +
lower-cased NFKC address)``: equal for the same mailbox however it is typed, useless to anyone
without the installation's system key, and never the address itself.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Final

from mamori.errors import InvalidValue
from mamori.policy.model import ValueKind
from mamori.vault.normalize import index_form, normalise

if TYPE_CHECKING:
    from mamori.vault.system_keys import SystemKeys

__all__ = ["KEY_NAME", "address_hash", "normal_address"]

KEY_NAME: Final = "mail-address"
"""The system key of address hashes."""
_LABEL: Final = b"mamori:mail-address\x00"


def normal_address(address: object, *, field: str = "to") -> str:
    """``address`` checked and trimmed; :class:`InvalidValue` naming ``field`` otherwise."""
    try:
        value = normalise(ValueKind.email, address, item_id=field)
    except InvalidValue:
        raise InvalidValue(f"{field}: not a valid e-mail address") from None
    assert isinstance(value, str)
    return value


def address_hash(keys: SystemKeys, address: str) -> bytes:
    """The 32-byte keyed hash of ``address`` (normalised first)."""
    form = index_form(ValueKind.email, normal_address(address))
    assert form is not None
    return hmac.new(keys.get(KEY_NAME), _LABEL + form.encode(), hashlib.sha256).digest()
