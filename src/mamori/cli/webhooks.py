"""`mamori webhooks`: endpoints of the host service's webhooks, their delivery log, replay."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mamori.cli.common import CLI_ACTOR, _runtime, app, err, out

webhooks_app = typer.Typer(
    help="Webhooks to the host service: endpoints (add, list, rotate, remove), deliveries, replay.",
    no_args_is_help=True,
)
app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("add")
def webhooks_add(
    service: Annotated[
        str, typer.Argument(help="The service: the name of a live service key (`keys list`).")
    ],
    url: Annotated[
        str, typer.Argument(help="Where events are POSTed: an https:// URL, no credentials.")
    ],
    events: Annotated[
        list[str] | None,
        typer.Option(
            "--event",
            "-e",
            help="An event type the endpoint receives; repeat. Default: every event type.",
        ),
    ] = None,
) -> None:
    """Register an endpoint; print its secret (whsec_...), and nothing else, on standard
    output (shown only once)."""
    from mamori.webhooks import endpoints

    runtime = _runtime()
    try:
        endpoint, secret = endpoints.create(
            runtime, service=service, url=url, events=events or [], actor=CLI_ACTOR
        )
    finally:
        runtime.close()
    sys.stdout.write(secret + "\n")
    sys.stdout.flush()
    err.print(
        f"registered endpoint {endpoint.id} for {endpoint.service} "
        f"(events: {', '.join(endpoint.events)}); store the secret now, it is not shown again",
        markup=False,
    )


@webhooks_app.command("list")
def webhooks_list() -> None:
    """List the endpoints, oldest first, one per line, tab-separated; never their secrets."""
    from mamori.webhooks import endpoints

    runtime = _runtime()
    try:
        found = endpoints.listing(runtime)
    finally:
        runtime.close()
    lines = ["id\tservice\turl\tevents\tenabled"]
    for e in found:
        lines.append(
            f"{e.id}\t{e.service}\t{e.url}\t{','.join(e.events)}\t{'yes' if e.enabled else 'no'}"
        )
    sys.stdout.write("\n".join(lines) + "\n")


@webhooks_app.command("rotate")
def webhooks_rotate(
    endpoint_id: Annotated[str, typer.Argument(help="The endpoint's id (wh_...).")],
) -> None:
    """Give the endpoint a new secret and print it on standard output (shown only once); the
    old secret stops signing at once."""
    from mamori.webhooks import endpoints

    runtime = _runtime()
    try:
        secret = endpoints.rotate(runtime, endpoint_id, actor=CLI_ACTOR)
    finally:
        runtime.close()
    sys.stdout.write(secret + "\n")
    sys.stdout.flush()
    err.print(f"rotated the secret of {endpoint_id}; store it now", markup=False)


@webhooks_app.command("remove")
def webhooks_remove(
    endpoint_id: Annotated[str, typer.Argument(help="The endpoint's id (wh_...).")],
) -> None:
    """Remove an endpoint: nothing more is queued or sent to it; its delivery log stays."""
    from mamori.webhooks import endpoints

    runtime = _runtime()
    try:
        endpoints.remove(runtime, endpoint_id, actor=CLI_ACTOR)
    finally:
        runtime.close()
    out.print(f"removed endpoint {endpoint_id}", markup=False)


@webhooks_app.command("deliveries")
def webhooks_deliveries(
    failed: Annotated[bool, typer.Option("--failed", help="Only the failed deliveries.")] = False,
    limit: Annotated[
        int, typer.Option(min=1, max=10_000, help="At most this many, newest first.")
    ] = 100,
) -> None:
    """The delivery log, newest first, tab-separated: IDs, status, attempts, last answer."""
    from mamori.webhooks import log

    runtime = _runtime()
    try:
        rows = log.deliveries(runtime, status="failed" if failed else None, limit=limit)
    finally:
        runtime.close()
    lines = ["id\tendpoint\tevent\tsubject\trequest\tstatus\tattempts\tlast\tnext"]
    for r in rows:
        nxt = f"{r.next_at:%Y-%m-%dT%H:%M:%SZ}" if r.next_at and r.status == "pending" else "-"
        last = str(r.last_status) if r.last_status is not None else (r.last_error or "-")
        lines.append(
            f"{r.id}\t{r.endpoint_id}\t{r.event_type}\t{r.subject_id or '-'}\t"
            f"{r.request_id or '-'}\t{r.status}\t{r.attempts}\t{last}\t{nxt}"
        )
    sys.stdout.write("\n".join(lines) + "\n")


@webhooks_app.command("replay")
def webhooks_replay(
    delivery_id: Annotated[str, typer.Argument(help="A failed delivery's id (msg_...).")],
) -> None:
    """Send a failed delivery again, with the same webhook-id (the next run of the job)."""
    from mamori.webhooks import delivery

    runtime = _runtime()
    try:
        delivery.replay(runtime, delivery_id, actor=CLI_ACTOR)
    finally:
        runtime.close()
    out.print(f"queued {delivery_id} again", markup=False)
