"""Where things are in the repository, for tests that read files beside the code."""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = ["DOCS", "EXAMPLE", "MINIMAL", "README", "ROOT", "SEED"]

ROOT: Final = Path(__file__).resolve().parents[2]
"""The repository's root folder."""
EXAMPLE: Final = ROOT / "examples" / "kokochie" / "policy.yaml"
"""The worked example (株式会社ココチエ)."""
SEED: Final = ROOT / "examples" / "kokochie" / "seed-privacy-policy.txt"
"""The real privacy policy the example declares, as published."""
MINIMAL: Final = ROOT / "tests" / "unit" / "policy" / "data" / "minimal.yaml"
"""The smallest valid policy, for tests that publish a change."""
DOCS: Final = ROOT / "docs"
README: Final = ROOT / "README.md"
