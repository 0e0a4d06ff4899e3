"""The shape of the package: the pure policy core does no I/O; domains never import web/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "mamori"

# Modules that talk to the outside world (network, database, servers, processes).
IO_MODULES = {
    "sqlalchemy",
    "alembic",
    "psycopg",
    "fastapi",
    "starlette",
    "uvicorn",
    "httpx",
    "socket",
    "smtplib",
    "subprocess",
    "requests",
    "urllib.request",
    "mamori.store",
    "mamori.audit",
    "mamori.web",
    "mamori.runtime",
    "mamori.cli",
}
# Every sub-package but the interfaces (the web layer and the command line) is a domain
# package (policy, audit, store, vault, ...).
INTERFACES = {"web", "cli"}
DOMAIN_PACKAGES = sorted(
    p.name
    for p in SRC.iterdir()
    if p.is_dir() and (p / "__init__.py").exists() and p.name not in INTERFACES
)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _hits(name: str, forbidden: set[str]) -> bool:
    return any(name == f or name.startswith(f + ".") for f in forbidden)


def test_policy_core_imports_nothing_with_io() -> None:
    offenders = {
        f"{path.relative_to(SRC)} imports {name}"
        for path in (SRC / "policy").rglob("*.py")
        for name in _imports(path)
        if _hits(name, IO_MODULES)
    }
    assert not offenders


@pytest.mark.parametrize("package", DOMAIN_PACKAGES)
def test_domain_packages_never_import_the_web_layer(package: str) -> None:
    folder = SRC / package
    offenders = {
        f"{path.relative_to(SRC)} imports {name}"
        for path in folder.rglob("*.py")
        for name in _imports(path)
        if _hits(name, {"mamori.web", "mamori.cli", "fastapi", "starlette"})
    }
    assert not offenders


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
