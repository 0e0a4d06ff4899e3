"""Access anomalies (issue 12): rules over the audit log, their evaluation and the alerts they
raise (:mod:`.rules` pure, :mod:`.evaluate` the periodic job, :mod:`.alerts` the register)."""
