"""People's requests (APPI 法33-39): intake, identity, workflow, decisions, packages, notices.

- :mod:`~mamori.requests.model` the vocabulary: types, steps, outcomes, grounds (pure)
- :mod:`~mamori.requests.workflow` the state machine, due dates and decision rules (pure, no I/O)
- :mod:`~mamori.requests.store` requests in the database, each change audited with IDs only
- :mod:`~mamori.requests.codes` one-time confirmation codes by e-mail, and their rate limits
- :mod:`~mamori.requests.package` the disclosure package (zip of JSON, CSV and HTML, streamed)
- :mod:`~mamori.requests.decisions` decisions applied to the vault, and the notices they send
- :mod:`~mamori.requests.reminders` the periodic reminder of requests falling due
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mamori.tasks import register_periodic

if TYPE_CHECKING:
    from mamori.runtime import Runtime


def _remind(runtime: Runtime) -> object:
    from mamori.requests.reminders import remind

    return remind(runtime)


register_periodic("requests.reminders", 15 * 60, _remind)
