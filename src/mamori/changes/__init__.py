"""Policy changes: what each published version changed, people's consents, change notices."""
