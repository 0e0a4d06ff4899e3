"""Person names: Sudachi's part of speech 名詞,固有名詞,人名 (the optional ``ja-nlp`` extra,
SudachiPy with its core dictionary, offline), and without it only the column's name."""

from __future__ import annotations

import itertools
import re
from typing import Protocol

from mamori.datasets.discovery.kinds import Detection, Kind

__all__ = ["NameAnalyser", "SudachiNames", "load_names", "looks_like_a_name", "person_name"]

_MAX_CHARS = 200


class NameAnalyser(Protocol):
    """Tells the parts of a text: for each token, whether it is a surname, a given name, a
    space or punctuation, or something else."""

    name: str

    def parts(self, text: str) -> list[str]:
        """One of ``surname``, ``given``, ``person`` (a name of unknown part), ``blank`` or
        ``other`` per token."""
        ...


class SudachiNames:
    """SudachiPy with sudachidict-core, split mode C (the longest units)."""

    name = "SudachiPy"

    def __init__(self) -> None:
        from sudachipy import Dictionary, SplitMode

        self._tokenizer = Dictionary(dict="core").tokenizer(mode=SplitMode.C)

    def parts(self, text: str) -> list[str]:
        found = []
        for token in self._tokenizer.tokenize(text[:_MAX_CHARS]):
            pos = token.part_of_speech()
            if pos[0] in ("空白", "補助記号"):
                found.append("blank")
            elif pos[:3] == ("名詞", "固有名詞", "人名"):
                found.append({"姓": "surname", "名": "given"}.get(pos[3], "person"))
            else:
                found.append("other")
        return found


def load_names() -> NameAnalyser | None:
    """Sudachi when the ``ja-nlp`` extra is installed; ``None`` (NLP off) otherwise."""
    try:
        return SudachiNames()
    except ImportError:
        return None


_NAME_LIKE = re.compile(r"[^\d@#/\\:;=<>{}\[\]|]{1,40}")


def looks_like_a_name(text: str) -> bool:
    """Could be a name by its shape alone: 1 to 40 characters, no digits, up to four words."""
    return _NAME_LIKE.fullmatch(text) is not None and len(text.split()) <= 4


def person_name(text: str, analyser: NameAnalyser) -> Detection | None:
    """A value that is a person's name: every word a name, a surname and a given name scoring
    higher than a surname alone. A surname followed by a given name inside a longer text is a
    mention."""
    if not text or any(ch.isdigit() for ch in text) or "@" in text:
        return None
    parts = analyser.parts(text)
    words = [part for part in parts if part != "blank"]
    if words and all(part != "other" for part in words) and len(words) <= 4:
        score = 0.9 if "surname" in words and "given" in words else 0.6
        return Detection(Kind.person_name, score)
    if len(parts) == 3 and parts[:2] == ["surname", "blank"] and len(text.split()[-1]) <= 4:
        return Detection(Kind.person_name, 0.6)  # a surname, a space, a short given name
    if any(a == "surname" and b == "given" for a, b in itertools.pairwise(words)):
        return Detection(Kind.person_name, 0.55, whole=False)
    return None
