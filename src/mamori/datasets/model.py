"""A dataset declaration (``datasets/<id>.yaml`` beside the policy): the model. Pure: no I/O.

A dataset names one of the operator's databases by the setting that holds its URL (never the
URL or a password itself), and declares what the schema cannot say: which column holds which
of the policy's data items, which columns identify a person, what erasure does to each column,
and the references and primary keys the database does not declare as constraints.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["FORMAT", "Column", "Dataset", "Erase", "Identity", "IdentityKind", "Reference", "Table"]

FORMAT: Final = "mamori-dataset/1"

Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")]
"""A table or column name as SQL knows it unquoted."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Erase(StrEnum):
    """What an erasure does to a column of the person's row."""

    delete = "delete"  # the whole row goes
    set_null = "set_null"
    rewrite = "rewrite"  # a fixed value (``value``)
    hash = "hash"  # a keyed hash (HMAC-SHA-256 under the ``datasets`` system key)
    keep = "keep"  # kept, for the legal reason given (``reason``)


class IdentityKind(StrEnum):
    email = "email"
    phone = "phone"
    external_id = "external_id"
    custom = "custom"


DEFAULT_ITEM: Final = {IdentityKind.email: "email", IdentityKind.phone: "phone"}
"""The vault's item an identity of this kind is matched against when none is named."""


class Identity(_Model):
    """A column that identifies the person: its rows are matched against the vault's value of
    ``item`` for them (``email`` and ``phone`` by default)."""

    kind: IdentityKind
    item: str | None = None

    @property
    def vault_item(self) -> str | None:
        return self.item or DEFAULT_ITEM.get(self.kind)


class Column(_Model):
    item: str
    erase: Erase = Erase.set_null
    value: str | None = None
    reason: str | None = Field(default=None, max_length=500)


class Reference(_Model):
    """``columns`` of this table hold the key ``to`` of ``table`` (declared only where the
    database has no foreign key saying so)."""

    columns: list[Name] = Field(min_length=1)
    table: Name
    to: list[Name] = Field(min_length=1)


class Table(_Model):
    columns: dict[Name, Column] = Field(default_factory=dict)
    identities: dict[Name, Identity] = Field(default_factory=dict)
    primary_key: list[Name] | None = None
    references: list[Reference] = Field(default_factory=list)
    not_through: list[Name] = Field(default_factory=list)
    """Tables whose rows do not make this table's rows the person's, though they refer to
    them (the RSVPs to the person's invitation are the guests', not the host's)."""

    @field_validator("identities", mode="before")
    @classmethod
    def _short(cls, value: Any) -> Any:
        # `email: email` is short for `email: {kind: email}`.
        if isinstance(value, dict):
            return {k: {"kind": v} if isinstance(v, str) else v for k, v in value.items()}
        return value


class Dataset(_Model):
    format: str = Field(alias="schema", default=FORMAT)
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    connection: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{0,99}$")]
    namespace: Name | None = None
    tables: dict[Name, Table] = Field(min_length=1)
