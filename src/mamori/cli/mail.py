"""`mamori mail` and `mamori worker`: outgoing mail and the task queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mamori.config import load_settings

if TYPE_CHECKING:
    pass

from mamori.cli.common import CLI_ACTOR, Lang, _runtime, app, err, out

mail_app = typer.Typer(
    help="Outgoing mail: check templates, send a test, deliver the queue, opt-outs.",
    no_args_is_help=True,
)
app.add_typer(mail_app, name="mail")


@mail_app.command("check")
def mail_check() -> None:
    """Check the mail templates (both languages, first line, syntax) and the mail settings."""
    from mamori.mail.message import sender_address
    from mamori.mail.templates import MailTemplates

    settings = load_settings()
    templates = MailTemplates(settings.mail_templates_dir)
    problems = templates.check()
    for problem in problems:
        err.print(f"mamori: {problem}", markup=False)
    if problems:
        raise typer.Exit(2)
    sender_address(settings.mail_from)
    where = (
        f"SMTP {settings.smtp_host}:{settings.smtp_port} ({settings.smtp_tls})"
        if settings.smtp_host
        else "the embedded outbox (MAMORI_SMTP_HOST is empty)"
    )
    out.print(
        f"{len(templates.names)} mail templates, each in ja and en: ok; mail goes to {where}",
        markup=False,
    )


@mail_app.command("test")
def mail_test(
    to: Annotated[str, typer.Argument(help="Address to send the test message to.")],
    lang: Annotated[Lang, typer.Option(help="Language of the message.")] = Lang.ja,
) -> None:
    """Queue the `test` template to an address and deliver it now (checks the SMTP settings)."""
    from mamori.errors import MailDeliveryFailed
    from mamori.store import db

    runtime = _runtime()
    try:
        with db.write(runtime.engine) as conn:
            mail_id = runtime.mail.queue(
                conn, to=to, template="test", language=lang.value, context={}
            )
        runtime.mail.deliver_pending()
        with db.read(runtime.engine) as conn:
            mail = runtime.mail.summary(conn, mail_id)
    finally:
        runtime.close()
    if mail.status == "outbox":
        out.print(f"{mail_id}: kept in the embedded outbox (MAMORI_SMTP_HOST is empty)")
    elif mail.status == "sent":
        out.print(f"{mail_id}: sent")
    else:
        raise MailDeliveryFailed(
            f"{mail_id}: not delivered ({mail.last_error or 'unknown error'}); it stays "
            f"{mail.status}: check the MAMORI_SMTP_* settings"
        )


@mail_app.command("deliver")
def mail_deliver() -> None:
    """Send every queued mail that is due now (the server and the worker also do this)."""
    runtime = _runtime()
    try:
        sent = runtime.mail.deliver_pending()
    finally:
        runtime.close()
    out.print(f"sent {sent} mails")


@mail_app.command("optout")
def mail_optout(
    address: Annotated[str, typer.Argument(help="Address that asked for no marketing mail.")],
    subject: Annotated[
        str | None, typer.Option(help="The person's subject ID, when known.")
    ] = None,
) -> None:
    """Record a mail opt-out a person asked for by phone or letter (seed §10(3))."""
    runtime = _runtime()
    try:
        added = runtime.mail.opt_out_address(address, actor=CLI_ACTOR, subject_id=subject)
    finally:
        runtime.close()
    out.print("opted out" if added else "already opted out")


@app.command()
def worker(
    beat: Annotated[
        bool, typer.Option(help="Also run Celery beat (the periodic jobs); on one worker only.")
    ] = True,
    concurrency: Annotated[int, typer.Option(min=1, help="Tasks run at once (threads).")] = 4,
) -> None:
    """Run a Celery worker (and beat) on MAMORI_TASK_BROKER_URL: mail delivery, periodic jobs."""
    from mamori.errors import ConfigError
    from mamori.tasks.celery_app import create_celery, worker_argv

    settings = load_settings()
    if not settings.task_broker_url:
        raise ConfigError(
            "MAMORI_TASK_BROKER_URL is empty: set it to redis://... or amqp://... "
            "(without a broker, `mamori serve` runs background work itself)"
        )
    celery = create_celery(settings)
    argv = worker_argv(settings, beat=beat, concurrency=concurrency, loglevel=settings.log_level)
    celery.worker_main(argv)
