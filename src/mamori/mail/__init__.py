"""Outgoing mail: templates, an encrypted outbox, SMTP delivery and mail opt-outs.

:class:`mamori.mail.mailer.Mailer` (``runtime.mail``) is the entry point: ``queue`` writes one
encrypted outbox row inside the caller's transaction, ``deliver_pending`` sends what is due.
Modules: ``addresses`` (normal form and keyed hash of an address), ``templates`` (ja/en text
templates, operator overrides), ``message`` (the MIME message), ``smtp`` (one SMTP session),
``outbox`` (the rows), ``optout`` (unsubscribe tokens and opt-outs), ``mailer``.
"""
