"""Load a policy declaration from YAML, reporting every problem with its file, line and path.

``parse_policy`` is pure: it takes the text and a name for messages. ``load_policy`` reads a
file and calls it. Both raise :class:`mamori.errors.PolicyError` holding every problem found:
YAML syntax, duplicate keys, shapes and types (from the models), and cross-references (from
:mod:`mamori.policy.checks`).

A policy file is untrusted input (it may come from a pull request): before anything is built,
the file is refused when it is larger than :data:`MAX_BYTES`, nests deeper than
:data:`MAX_DEPTH`, has more than :data:`MAX_NODES` values, or uses YAML anchors and aliases
(which a policy never needs, and which let a few hundred bytes expand to gigabytes). A number too
long to convert is a problem at its line, not a traceback.
"""

from __future__ import annotations

import difflib
import hashlib
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, get_args, get_origin

import orjson
import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from mamori.errors import PolicyError, PolicyFileError, Problem
from mamori.policy import checks
from mamori.policy.model import Policy

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "LoadedPolicy",
    "canonical_json",
    "compose",
    "content_hash",
    "format_path",
    "load_policy",
    "parse_policy",
    "read_policy",
]

PathKey = tuple[str | int, ...]

MAX_BYTES: Final = 1024 * 1024
"""The largest policy file accepted, in bytes of UTF-8 (the worked example is about 46 KB)."""
MAX_DEPTH: Final = 32
"""How deep mappings and lists may nest (the worked example nests 6 deep)."""
MAX_NODES: Final = 20_000
"""How many keys and values a policy may hold in all (the worked example holds about 1,600)."""


class _BoundedLoader(yaml.SafeLoader):
    """A safe loader that refuses anchors and aliases and bounds depth and size while it
    composes, before any value is constructed."""

    def __init__(self, stream: str, filename: str) -> None:
        super().__init__(stream)
        self._filename = filename
        self._depth = 0
        self._nodes = 0

    def _refuse(self, event: Any, message: str) -> PolicyError:
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        return PolicyError([Problem(self._filename, line, "", message)])

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise self._refuse(
                event, "YAML anchors and aliases (&name, *name) are not allowed in a policy"
            )
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise self._refuse(event, f"the policy holds more than {MAX_NODES:,} values")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise self._refuse(event, f"the policy nests deeper than {MAX_DEPTH} levels")
            node: yaml.Node | None = super().compose_node(parent, index)
            return node
        finally:
            self._depth -= 1


@dataclass(frozen=True, slots=True)
class LoadedPolicy:
    """A validated policy with the source it came from."""

    policy: Policy
    source: str
    filename: str

    @property
    def canonical_json(self) -> str:
        return canonical_json(self.policy)

    @property
    def content_hash(self) -> str:
        return content_hash(self.policy)


def format_path(path: PathKey) -> str:
    """Render a document path as ``purposes[3].items[1]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


class _Positions:
    """Line numbers (1-based) of every mapping key and value in a YAML document."""

    def __init__(self) -> None:
        self.lines: dict[PathKey, int] = {}

    def line(self, path: PathKey) -> int | None:
        # The deepest known ancestor: a missing key is reported at its parent mapping.
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


def _walk(
    node: yaml.Node, path: PathKey, positions: _Positions, problems: list[Problem], filename: str
) -> None:
    positions.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    Problem(
                        filename,
                        line,
                        format_path((*path, key)),
                        f"duplicate key '{key}' (first given on line {seen[key]})",
                    )
                )
                continue
            seen[key] = line
            positions.lines[(*path, key)] = line
            _walk(value_node, (*path, key), positions, problems, filename)
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _walk(child, (*path, index), positions, problems, filename)


def _compose(text: str, filename: str) -> tuple[Any, _Positions, list[Problem]]:
    positions = _Positions()
    problems: list[Problem] = []
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        message = f"the policy is {size:,} bytes; the limit is {MAX_BYTES:,} bytes"
        return None, positions, [Problem(filename, None, "", message)]
    loader = _BoundedLoader(text, filename)
    node: yaml.Node | None = None
    try:
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except PolicyError as exc:
        return None, positions, list(exc.problems)
    except ValueError as exc:  # an integer with more digits than Python converts, say
        reason = str(exc).split(";")[0].split(":")[0] or "a value cannot be read"
        line = _line_of_value_error(node)
        return None, positions, [Problem(filename, line, "", f"unreadable value: {reason}")]
    except RecursionError:
        return None, positions, [Problem(filename, None, "", "the policy nests too deeply")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or str(exc)
        if exc.context:
            what = f"{exc.context}, {what}"
        return None, positions, [Problem(filename, line, "", f"YAML syntax error: {what}")]
    except yaml.YAMLError as exc:
        return None, positions, [Problem(filename, None, "", f"YAML syntax error: {exc}")]
    if node is not None:
        _walk(node, (), positions, problems, filename)
    return data, positions, problems


def _line_of_value_error(node: yaml.Node | None) -> int | None:
    """The line of the first number too long to convert (what a ValueError while building
    the values means in a document that composed)."""
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.ScalarNode):
            if current.tag.endswith((":int", ":float")) and len(current.value) > 4000:
                return int(current.start_mark.line) + 1
        elif isinstance(current, yaml.MappingNode):
            stack.extend(v for pair in reversed(current.value) for v in reversed(pair))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(reversed(current.value))
    return None


# -- turning pydantic errors into problems ---------------------------------------------------


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``list[X]``, ``X | None``, ``dict[K, X]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _model_in(get_args(annotation)[0])
    if origin in (list, dict, typing.Union, types.UnionType):
        for arg in get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_at(path: PathKey) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Policy
    for part in path:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        fields = {field.alias or name: field for name, field in model.model_fields.items()}
        field = fields.get(part)
        if field is None:
            return None
        annotation = field.annotation
        # dict[Enum, Model] keys are data, not fields: skip one level for them.
        model = _model_in(annotation)
        if get_origin(annotation) is dict:
            return model
    return model


def _data_path(data: Any, loc: tuple[int | str, ...]) -> PathKey:
    """Keep the parts of a pydantic location that name places in the document."""
    path: list[str | int] = []
    current = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
        elif isinstance(current, dict) and isinstance(part, str) and (part in current or last):
            path.append(part)
            current = current.get(part)
        else:
            # A union member tag such as "function-after[...]" or "literal['none']".
            continue
    return tuple(path)


def _describe(err: ErrorDetails, path: PathKey, data: Any) -> tuple[PathKey, str]:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        key = path[-1] if path else ""
        if key in ("ja", "en"):
            language = "Japanese" if key == "ja" else "English"
            return path, f"missing {language} text ('{key}'): give the text in both ja and en"
        return path, f"missing required key '{key}'"
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else ""
        model = _model_at(path[:-1])
        hint = ""
        if model is not None:
            close = difflib.get_close_matches(key, _field_names(model), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            allowed = ", ".join(_field_names(model))
            return path, f"unknown key '{key}'{hint}; allowed keys: {allowed}"
        return path, f"unknown key '{key}'"
    if kind == "string_pattern_mismatch" and "a-z" in str(ctx.get("pattern", "")):
        return path, (
            f"invalid id {err['input']!r}: use lower-case ASCII letters, digits and '_', "
            "starting with a letter"
        )
    if kind == "string_pattern_mismatch" and "A-Z]{2}" in str(ctx.get("pattern", "")):
        return path, f"invalid country {err['input']!r}: use an ISO 3166-1 code such as JP or US"
    if kind == "value_error":
        return path, str(ctx.get("error", err["msg"]))
    if kind in ("too_short",) and isinstance(err["input"], list | str):
        return path, "must not be empty"
    msg = err["msg"]
    value = err.get("input")
    shown = f" (got {value!r})" if isinstance(value, str | int | float | bool) else ""
    return path, f"{msg[0].lower()}{msg[1:]}{shown}"


def _validation_problems(
    exc: ValidationError, data: Any, positions: _Positions, filename: str
) -> Iterator[Problem]:
    merged: dict[PathKey, list[str]] = {}
    for err in exc.errors(include_url=False):
        path, message = _describe(err, _data_path(data, err["loc"]), data)
        merged.setdefault(path, [])
        if message not in merged[path]:
            merged[path].append(message)
    for path, messages in merged.items():
        yield Problem(filename, positions.line(path), format_path(path), "; or ".join(messages))


# -- public API ------------------------------------------------------------------------------


def compose(text: str, filename: str) -> tuple[Any, Callable[[PathKey], int | None], list[Problem]]:
    """YAML ``text`` read under the policy's bounds, for another declaration beside the policy
    (the datasets): the data, the line of a path (its deepest known ancestor's), and the
    problems found (syntax, duplicate keys, size); the data is None when it cannot be read."""
    data, positions, problems = _compose(text, filename)
    return data, positions.line, problems


def parse_policy(text: str, filename: str = "policy.yaml") -> Policy:
    """Validate a policy declaration, raising :class:`PolicyError` with every problem found."""
    data, positions, problems = _compose(text, filename)
    if problems and data is None:
        raise PolicyError(problems)
    if not isinstance(data, dict):
        raise PolicyError([Problem(filename, 1, "", "a policy must be a YAML mapping of keys")])
    # Cross-reference problems come first so that, where both find the same place, the more
    # specific message (e.g. the APPI field a joint use lacks) is the one kept.
    for path, message in checks.check(data):
        problems.append(Problem(filename, positions.line(path), format_path(path), message))
    policy: Policy | None = None
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        problems.extend(_validation_problems(exc, data, positions, filename))
    if problems:
        raise PolicyError(_dedupe(problems))
    assert policy is not None
    return policy


def _dedupe(problems: list[Problem]) -> list[Problem]:
    # A cross-reference check may restate a shape error at the same path: keep the first one.
    seen: set[str] = set()
    out: list[Problem] = []
    for problem in problems:
        if problem.path and problem.path in seen:
            continue
        seen.add(problem.path)
        out.append(problem)
    return sorted(out, key=lambda p: (p.line or 0, p.path))


def read_policy(path: Path) -> LoadedPolicy:
    """Read and validate a policy file."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES and path.is_file():
            raise PolicyFileError(
                f"{path}: the policy is {size:,} bytes; the limit is {MAX_BYTES:,} bytes"
            )
        with path.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)  # a file that grew since: still refused below
    except FileNotFoundError:
        raise PolicyFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise PolicyFileError(f"{path}: is a folder, not a policy file") from None
    except OSError as exc:
        raise PolicyFileError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return LoadedPolicy(parse_policy(text, str(path)), text, str(path))


def load_policy(path: Path) -> Policy:
    """Read and validate a policy file, returning the model."""
    return read_policy(path).policy


def canonical_json(policy: Policy) -> str:
    """A deterministic JSON encoding of the policy's meaning (not of its YAML formatting)."""
    data = policy.model_dump(mode="json", by_alias=True)
    if not data["recipients"]:  # as before recipients were declared: the same hash
        del data["recipients"]
    for item in data["items"]:  # as before items could hold several kinds: the same hash
        if not item["kinds"]:
            del item["kinds"]
    for purpose in data["purposes"]:  # as before purposes declared statistics and exports
        for key in ("statistics", "pseudonymised"):
            if purpose[key] is None:
                del purpose[key]
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode("utf-8")


def content_hash(policy: Policy) -> str:
    """SHA-256 (hex) of :func:`canonical_json`: equal for equal meaning, whatever the layout."""
    return hashlib.sha256(canonical_json(policy).encode("utf-8")).hexdigest()
