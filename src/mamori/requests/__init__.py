"""People's requests (APPI 法33-39): intake, identity, workflow, decisions, packages, notices.

- :mod:`~mamori.requests.model` the vocabulary: types, steps, outcomes, grounds (pure)
- :mod:`~mamori.requests.workflow` the state machine, due dates and decision rules (pure, no I/O)
- :mod:`~mamori.requests.store` requests as the workflow handles them: sealed details, each
  change audited with IDs only
- :mod:`~mamori.requests.storage` every query of the package: requests, codes, rate limits
- :mod:`~mamori.requests.codes` one-time confirmation codes by e-mail, and their rate limits
- :mod:`~mamori.requests.package` the disclosure package (zip of JSON, CSV and HTML, streamed)
- :mod:`~mamori.requests.decisions` decisions applied to the vault, and the notices they send
- :mod:`~mamori.requests.reminders` the periodic reminder of requests falling due (a job of
  :data:`mamori.app.parts.BUILT_IN`)
"""
