"""Schemathesis hooks for the API probe (:mod:`tests.probes.api_fuzz` sets SCHEMATHESIS_HOOKS).

- ``subject_id`` (in paths and bodies) is often replaced with people the probe stored before the run
  (``MAMORI_FUZZ_SUBJECTS``), and a provision's ``subjects`` with some of them, so generated
  calls reach the vault's and the gate's logic, not only their 404.
- NDJSON streams (bulk reads, consent receipts) are checked line by line against the schema
  the document gives for one line: Schemathesis validates JSON bodies only.
"""

from __future__ import annotations

import os
from typing import Any

import jsonschema_rs
import orjson
import schemathesis
from hypothesis import strategies as st

SUBJECTS = [s for s in os.environ.get("MAMORI_FUZZ_SUBJECTS", "").split(",") if s]
NDJSON = "application/x-ndjson"


def _known(ctx: Any) -> list[str]:
    """The stored people a call may name; withdrawal gets only a few, so most stay usable."""
    operation = getattr(ctx, "operation", None)
    if operation is not None and str(operation.path).endswith("/withdraw"):
        return SUBJECTS[-3:]
    return SUBJECTS


def _with_known(ctx: Any, values: dict[str, Any] | None) -> Any:
    if not isinstance(values, dict) or not SUBJECTS:
        return st.just(values)
    if isinstance(values.get("subjects"), list):  # a provision: some of the stored people
        people = _known(ctx)
        return st.sampled_from([values, {**values, "subjects": people[:3]}])
    if "subject_id" not in values:
        return st.just(values)
    known = [{**values, "subject_id": s} for s in _known(ctx)]
    return st.sampled_from([values, *known])


@schemathesis.hook
def flatmap_path_parameters(ctx: Any, path_parameters: dict[str, Any] | None) -> Any:
    return _with_known(ctx, path_parameters)


@schemathesis.hook
def flatmap_body(ctx: Any, body: Any) -> Any:
    return _with_known(ctx, body)


@schemathesis.check
def ndjson_lines_conform(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every line of an NDJSON answer is one JSON value the documented line schema accepts."""
    media = (response.headers.get("content-type") or [""])[0].split(";")[0].strip()
    if media != NDJSON or response.content_size > len(response.content):
        return None
    documented = case.operation.definition.raw["responses"].get(str(response.status_code), {})
    schema = documented.get("content", {}).get(NDJSON, {}).get("schema")
    if schema is None:
        raise AssertionError(f"{response.status_code} {NDJSON} is not documented")
    validator = jsonschema_rs.validator_for(schema)
    for number, line in enumerate(response.content.splitlines(), 1):
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise AssertionError(f"line {number} is not JSON: {exc}") from None
        for error in validator.iter_errors(value):
            raise AssertionError(f"line {number} breaks the schema: {error.message}")
    return True
