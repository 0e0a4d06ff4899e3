"""Every CLI command, setting and policy key is documented (a new one without docs fails)."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any, get_args, get_origin

import typer
from pydantic import BaseModel

from mamori.cli import app
from mamori.config import Settings
from mamori.policy.model import Policy
from tests.helpers.paths import DOCS, README


def _commands(group: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    yield prefix, group
    if hasattr(group, "commands"):  # a group (typer vendors its own click)
        for name, command in group.commands.items():
            yield from _commands(command, f"{prefix} {name}")


def test_every_cli_command_has_help_and_is_in_the_reference() -> None:
    text = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    missing, no_help = [], []
    checked_options = 0
    for name, command in _commands(typer.main.get_command(app), "mamori"):
        if not (command.help or "").strip():
            no_help.append(name)
        if hasattr(command, "commands"):
            continue
        if f"`{name}" not in text:
            missing.append(name)
        for param in command.params:
            checked_options += param.param_type_name == "option"
            option = param.param_type_name == "option" and param.name != "help"
            if option and not param.hidden and not (param.help or "").strip():
                no_help.append(f"{name} {param.opts[0]}")
    assert not no_help, f"commands or options without help text: {no_help}"
    assert not missing, f"commands missing from docs/reference/cli.md: {missing}"
    assert checked_options > 5, "the walk must reach the commands' options"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "reference" / "settings.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"
        assert f"`MAMORI_{name.upper()}`" in text, f"MAMORI_{name.upper()} is not documented"


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    origin = get_origin(annotation)
    if origin in (list, dict, typing.Union, types.UnionType, typing.Annotated):
        for arg in get_args(annotation):
            yield from _models(arg)


def _policy_keys(model: type[BaseModel], seen: set[type[BaseModel]]) -> Iterator[str]:
    if model in seen:
        return
    seen.add(model)
    for name, field in model.model_fields.items():
        yield field.alias or name
        for inner in _models(field.annotation):
            yield from _policy_keys(inner, seen)


def test_every_policy_key_is_in_the_reference() -> None:
    text = (DOCS / "reference" / "policy.md").read_text(encoding="utf-8")
    missing = sorted({key for key in _policy_keys(Policy, set()) if f"`{key}`" not in text})
    assert not missing, f"policy keys missing from docs/reference/policy.md: {missing}"


def test_readme_opens_with_the_two_commands() -> None:
    head = README.read_text(encoding="utf-8").split("\n## ", 2)
    opening = "\n## ".join(head[:2])
    assert "./dev serve" in opening
    assert "./dev test" in opening
