"""Application wiring: opening storage and keys, loading the built-in parts, the Runtime.

The interfaces (web, CLI, task queue) open a :class:`Runtime` with :func:`open_runtime` and
hand it to the domain functions, which see it only through the protocols they declare.
"""

from mamori.app.parts import BUILT_IN, Job, Parts
from mamori.app.runtime import Runtime, fixed_master_keys, load_master_keys, open_runtime

__all__ = [
    "BUILT_IN",
    "Job",
    "Parts",
    "Runtime",
    "fixed_master_keys",
    "load_master_keys",
    "open_runtime",
]
