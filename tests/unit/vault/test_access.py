"""Caller.require: the same helpful 403 message as a service key's."""

from __future__ import annotations

import pytest

from mamori.errors import PermissionDenied
from mamori.vault.access import Caller


def test_a_key_caller_is_told_what_it_may_do_and_how_to_get_more() -> None:
    reader = Caller("key:abc", frozenset({"service_operation"}), frozenset({"read"}))
    reader.require("read")
    with pytest.raises(PermissionDenied) as caught:
        reader.require("write")
    assert caught.value.message == (
        "'key:abc' may not write (it may read); create a key with --operation write for this"
    )


def test_other_callers_get_no_key_hint() -> None:
    with pytest.raises(PermissionDenied) as caught:
        Caller("subject:x", operations=frozenset()).require("delete")
    assert caught.value.message == "'subject:x' may not delete (it may do nothing)"
