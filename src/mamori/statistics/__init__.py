"""Statistics that identify no one, and pseudonymised exports (issue 16).

- :mod:`.dimensions` (pure) the group of a value: prefecture, age band, month, value
- :mod:`.disclosure` (pure) cells below k suppressed, with secondary suppression; differencing
- :mod:`.queries` an aggregate query: checked, logged per purpose, computed, audited
- :mod:`.pseudonyms` the sealed keys of pseudonymised exports: current, replaced, destroyed
- :mod:`.exports` a pseudonymised export (仮名加工情報, APPI 41) as CSV, recorded and audited
- :mod:`.storage` the queries of the log, the keys and the records of exports
"""
