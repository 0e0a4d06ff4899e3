"""Outgoing mail: templates, an encrypted outbox, SMTP delivery and mail opt-outs.

:class:`mamori.mail.mailer.Mailer` (``runtime.mail``) is the entry point: ``queue`` writes one
encrypted outbox row inside the caller's transaction, ``deliver_pending`` sends what is due.
Modules: ``templates`` (ja/en text
templates, operator overrides), ``message`` (the MIME message), ``smtp`` (one SMTP session),
``optout`` (unsubscribe tokens and opt-outs), ``storage`` (every query on the outbox and the
opt-outs, and the engine hooks that hand queued mail on after commit), ``mailer``.
"""
