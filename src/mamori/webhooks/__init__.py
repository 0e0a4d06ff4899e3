"""Webhooks to the host service: signed events (Standard Webhooks) from the audit log."""
