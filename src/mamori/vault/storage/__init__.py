"""The vault's storage seam: every query on the vault's tables, and the public store API the
other domains use to reach people's data (requests' disclosure package, change notices, the
privacy center). Only this package (and the audit log) writes SQL for the vault.

- :mod:`~mamori.vault.storage.subjects` subjects, items, blind indexes, stops, events
- :mod:`~mamori.vault.storage.keys` system keys, wrapped data keys, service keys
"""
