"""What a person asks for, checked against the published policy before anything is stored.

Pure: takes the compiled :class:`~mamori.policy.rules.Rules` and returns a checked
:class:`Intake` or raises :class:`~mamori.errors.UserInputError` naming the field (never a value).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from mamori.errors import InvalidValue, UserInputError
from mamori.policy.model import ValueKind
from mamori.policy.rules import Rules
from mamori.requests.model import GROUNDS_OF, Agent, Delivery, Ground, RequestType
from mamori.vault.normalize import normalise

__all__ = ["MAX_MESSAGE", "Intake", "check_intake"]

MAX_MESSAGE: Final = 4000
_CORRECTABLE = frozenset(
    {
        ValueKind.text,
        ValueKind.name,
        ValueKind.email,
        ValueKind.phone,
        ValueKind.address,
        ValueKind.postal_code,
        ValueKind.date,
    }
)


@dataclass(frozen=True)
class Intake:
    """A checked request, ready to store. ``details`` holds the personal parts (sealed)."""

    type: RequestType
    language: str
    email: str
    items: tuple[str, ...] = ()
    ground: Ground | None = None
    delivery: Delivery | None = None
    agent: Agent | None = None
    message: str = ""
    corrections: Mapping[str, Any] = field(default_factory=dict)
    agent_name: str = ""
    postal_address: str = ""
    proof: bytes | None = field(default=None, repr=False)
    proof_type: str | None = None

    @property
    def details(self) -> dict[str, object]:
        out: dict[str, object] = {"email": self.email}
        for name in ("message", "agent_name", "postal_address"):
            value = getattr(self, name)
            if value:
                out[name] = value
        if self.corrections:
            out["corrections"] = dict(self.corrections)
        return out


def correctable(rules: Rules, subject_type: str | None = None) -> list[str]:
    """Items a person may propose new values for (short values of one kind, not documents,
    streams or items of several kinds such as ``content``)."""
    held = rules.subject_types.get(subject_type) if subject_type else None
    return [
        i.id
        for i in rules.items.values()
        if i.kind in _CORRECTABLE and not i.several_kinds and (held is None or i.id in held)
    ]


def _text(value: object, name: str, limit: int = MAX_MESSAGE) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise UserInputError(f"{name}: give text")
    value = value.strip()
    if len(value) > limit:
        raise UserInputError(f"{name}: at most {limit} characters")
    return value


def check_intake(
    rules: Rules,
    *,
    type: str,
    language: str,
    email: object,
    items: Sequence[str] = (),
    ground: str | None = None,
    delivery: str | None = None,
    agent: str | None = None,
    message: object = None,
    corrections: Mapping[str, object] | None = None,
    agent_name: object = None,
    postal_address: object = None,
    proof: bytes | None = None,
    proof_type: str | None = None,
    max_proof_bytes: int = 5 * 1024 * 1024,
    subject_type: str | None = None,
) -> Intake:
    """Check a request as filed; raise a :class:`UserInputError` naming the first bad field.

    ``subject_type``: the kind of person filing (from their session, or as they said on the
    form): the items named must be held for such people."""
    try:
        kind = RequestType(type)
    except ValueError:
        raise UserInputError(
            f"type: unknown request type; use one of {', '.join(RequestType)}"
        ) from None
    if language not in ("ja", "en"):
        raise UserInputError("language: use ja or en")
    try:
        address = str(normalise(ValueKind.email, email, item_id="email"))
    except InvalidValue:
        raise UserInputError("email: not a valid e-mail address") from None
    wanted = tuple(dict.fromkeys(items))
    held = rules.subject_type(subject_type) if subject_type else None
    for item_id in wanted:
        if item_id not in rules.items:
            raise UserInputError(f"items: unknown data item '{item_id}'")
        if held is not None and item_id not in held:
            raise UserInputError(
                f"items: item '{item_id}' is not held for people of type '{subject_type}'"
            )
    chosen_ground: Ground | None = None
    if kind in GROUNDS_OF:
        if not ground:
            raise UserInputError("ground: choose the reason for the request (APPI 法35)")
        try:
            chosen_ground = Ground(ground)
        except ValueError:
            raise UserInputError("ground: unknown ground") from None
        if chosen_ground not in GROUNDS_OF[kind]:
            raise UserInputError(f"ground: '{chosen_ground}' does not apply to '{kind}'")
    elif ground:
        raise UserInputError(f"ground: a request of type '{kind}' takes no ground")
    chosen_delivery: Delivery | None = None
    if kind is RequestType.disclosure:
        try:
            chosen_delivery = Delivery(delivery or Delivery.electronic)
        except ValueError:
            raise UserInputError("delivery: use electronic or post") from None
    elif delivery:
        raise UserInputError("delivery: only a disclosure is delivered")
    postal = _text(postal_address, "postal_address", 500)
    if chosen_delivery is Delivery.post and not postal:
        raise UserInputError("postal_address: give the address to post the disclosure to")
    checked_corrections: dict[str, Any] = {}
    if kind is RequestType.correction:
        allowed = set(correctable(rules, subject_type))
        for item_id, value in (corrections or {}).items():
            if item_id not in allowed:
                raise UserInputError(f"corrections: item '{item_id}' cannot be corrected here")
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            kind_of = rules.item(item_id).kind
            try:
                checked_corrections[item_id] = normalise(kind_of, value, item_id=item_id)
            except InvalidValue as exc:
                raise UserInputError(f"corrections: {exc.message}") from None
        if not checked_corrections:
            raise UserInputError("corrections: give the new value of at least one item")
        wanted = tuple(checked_corrections)
    elif corrections:
        raise UserInputError("corrections: only a correction request proposes values")
    if kind in (RequestType.usage_stop, RequestType.erasure) and not wanted:
        raise UserInputError("items: choose the items the request concerns")
    text = _text(message, "message")
    if kind is RequestType.inquiry and not text:
        raise UserInputError("message: write your question or complaint")
    chosen_agent: Agent | None = None
    name = _text(agent_name, "agent_name", 200)
    if agent:
        try:
            chosen_agent = Agent(agent)
        except ValueError:
            raise UserInputError("agent: use legal_representative or appointed_agent") from None
        if not name:
            raise UserInputError("agent_name: give the agent's name")
        if not proof:
            raise UserInputError("proof: an agent's request needs a proof of authority")
    if proof is not None and len(proof) > max_proof_bytes:
        from mamori.errors import ValueTooLarge

        raise ValueTooLarge(f"proof: {len(proof)} bytes; the limit is {max_proof_bytes} bytes")
    if proof is not None and not chosen_agent:
        proof = None
    return Intake(
        type=kind,
        language=language,
        email=address,
        items=wanted,
        ground=chosen_ground,
        delivery=chosen_delivery,
        agent=chosen_agent,
        message=text,
        corrections=checked_corrections,
        agent_name=name,
        postal_address=postal,
        proof=proof or None,
        proof_type=(proof_type or "application/octet-stream")[:100] if proof else None,
    )
