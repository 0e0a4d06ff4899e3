"""Background work inside a server process: started and stopped by the web app's lifespan."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from mamori.tasks.inprocess import InProcessRunner

if TYPE_CHECKING:
    from mamori.app import Runtime

__all__ = ["start_background"]


def start_background(runtime: Runtime) -> Callable[[], None]:
    """Start what this process does in the background; returns the function that stops it.

    No broker: an :class:`InProcessRunner` runs the periodic jobs and delivers mail. With a
    broker: nothing runs here; mail queued by this process is handed to the broker, and the
    jobs run on Celery beat and workers (`mamori worker`).
    """
    if runtime.settings.task_broker_url:
        from mamori.tasks.celery_app import attach_dispatcher, create_celery

        dispatch = attach_dispatcher(
            create_celery(runtime.settings, lambda: runtime, parts=runtime.parts), runtime
        )
        return lambda: runtime.mail.remove_dispatcher(dispatch)
    runner = InProcessRunner(runtime)
    runner.start()
    return runner.stop
