"""The operator's own databases: datasets declared beside the policy, the person's rows found
through their references (disclosure), and erased in an order their constraints accept, with
a plan recorded first, checkpoints, and a re-query that proves nothing is left; and the
discovery of personal data in a database not yet declared (:mod:`.discovery`)."""

from __future__ import annotations
