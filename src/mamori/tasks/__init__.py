"""Background work: periodic jobs and mail delivery, on Celery or inside `mamori serve`.

A module that owns a periodic job registers it when it is imported (``register_periodic``);
the modules :mod:`mamori.runtime` imports are imported everywhere jobs run. On the embedded
default (``MAMORI_TASK_BROKER_URL`` empty) ``mamori serve`` runs the jobs and delivers queued
mail in a background thread (:mod:`mamori.tasks.inprocess`); in production a Celery worker and
beat (``mamori worker``, :mod:`mamori.tasks.celery_app`) do it, on Redis or RabbitMQ.
"""

from mamori.tasks.registry import PeriodicJob, jobs, register_periodic

__all__ = ["PeriodicJob", "jobs", "register_periodic"]
