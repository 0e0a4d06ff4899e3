"""The shape of the package, kept: import-linter's contracts, module size, one error hierarchy.

The contracts themselves are in pyproject.toml (``[tool.importlinter]``) and described in
docs/explanation/architecture.md; ``./dev lint`` runs them too.
"""

from __future__ import annotations

import ast

import pytest

from mamori.config import REQUEST_TYPES
from mamori.requests.model import RequestType
from tests.helpers.paths import ROOT

SRC = ROOT / "src" / "mamori"
MAX_MODULE_LINES = 600


def test_the_import_contracts_hold(capsys: pytest.CaptureFixture[str]) -> None:
    from importlinter.cli import lint_imports

    code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert code == 0, report
    assert "0 broken" in report and "kept" in report


def test_no_module_is_over_600_lines() -> None:
    long = {
        str(path.relative_to(SRC)): n
        for path in SRC.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these modules: {long}"


def test_one_exception_hierarchy() -> None:
    """Exceptions are defined in mamori/errors.py only."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "errors.py" and path.parent == SRC:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Name) and base.id.endswith(("Error", "Exception"))
                for base in node.bases
            ):
                offenders.append(f"{path.relative_to(SRC)}: {node.name}")
    assert not offenders


def test_the_settings_know_every_request_type() -> None:
    """config.py (the kernel) names the request types without importing the requests domain."""
    assert tuple(RequestType) == REQUEST_TYPES


def test_the_client_loads_no_server_part() -> None:
    """A host service imports mamori.client without FastAPI, SQLAlchemy or the vault."""
    import subprocess
    import sys

    code = (
        "import sys, mamori.client; "
        "print(' '.join(m for m in ('fastapi', 'starlette', 'sqlalchemy', 'mamori.app', "
        "'mamori.vault', 'mamori.web.app') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""
