"""A webhook receiver for the tests: a real threaded HTTP server on 127.0.0.1 that verifies each
delivery's Standard Webhooks signature with the ``standardwebhooks`` library and records what it
received, by webhook-id, as a host service would (deduplicating retries by the id)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

__all__ = ["Receiver", "receiver"]


@dataclass
class Receiver:
    url: str
    secret: str | None = None
    fail_first: int = 0
    """Answer 500 to this many requests before answering 204."""
    requests: int = 0
    invalid: int = 0
    events: dict[str, Any] = field(default_factory=dict)
    """webhook-id -> the verified event (the first time it came)."""
    seen: dict[str, int] = field(default_factory=dict)
    """webhook-id -> how many verified requests carried it."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            self.requests += 1
            if self.requests <= self.fail_first:
                return 500
            secret = self.secret
        if secret is None:
            return 503
        try:
            event = Webhook(secret).verify(body, headers)
        except WebhookVerificationError:
            with self.lock:
                self.invalid += 1
            return 400
        wid = headers["webhook-id"]
        with self.lock:
            self.seen[wid] = self.seen.get(wid, 0) + 1
            self.events.setdefault(wid, event)
        return 204

    def of_type(self, event_type: str) -> list[Any]:
        with self.lock:
            return [e for e in self.events.values() if e["type"] == event_type]

    def wait_for(self, event_type: str, timeout: float = 15.0) -> list[Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of_type(event_type)
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no {event_type} event within {timeout}s (got {self.events!r})")


@contextmanager
def receiver(*, fail_first: int = 0) -> Iterator[Receiver]:
    """A receiver listening on 127.0.0.1 (a free port) until the block ends; give it the
    endpoint's secret (``rec.secret = ...``) once the endpoint is registered."""
    box: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = box[0].handle(headers, body)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    box.append(Receiver(f"http://127.0.0.1:{server.server_port}/hooks", fail_first=fail_first))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
