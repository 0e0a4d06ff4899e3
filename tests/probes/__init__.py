"""Probes run outside the test suite, against a served mamori (``python -m tests.probes.NAME``)."""
