"""Helpers shared by the whole suite (fixtures live in tests/conftest.py)."""
