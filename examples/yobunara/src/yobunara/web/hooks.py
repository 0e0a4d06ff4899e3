"""mamori's webhooks (Standard Webhooks): verified before anything is read, each processed
once by its ``webhook-id``. A withdrawal deletes the person's account, with its invitation and
its guests' answers, and the answers the person gave as a guest."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from standardwebhooks import Webhook, WebhookVerificationError

from yobunara.web.common import service

__all__ = ["router"]

router = APIRouter()
log = logging.getLogger("yobunara.hooks")


@router.post("/mamori/events", include_in_schema=False)
async def receive(request: Request) -> Response:
    svc = service(request)
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        event = Webhook(svc.settings.webhook_secret).verify(body, headers)
    except WebhookVerificationError:
        return Response(status_code=400)
    if not isinstance(event, dict) or not svc.store.first_delivery(
        headers["webhook-id"], str(event.get("type"))
    ):
        return Response(status_code=204)  # a retry or a replay: done already
    data = event.get("data") or {}
    if event.get("type") == "subject.withdrawn":
        accounts, answers = svc.store.forget_subject(str(data.get("subject_id")))
        log.info("withdrawal: %d account(s), %d answer(s) deleted", accounts, answers)
    # usage_stop.changed needs nothing: every read asks mamori, which applies the stop.
    return Response(status_code=204)
