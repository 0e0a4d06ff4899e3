"""Background work: the periodic jobs and mail delivery, on Celery or inside `mamori serve`.

The jobs are the built-in parts the runtime loaded (:data:`mamori.app.parts.BUILT_IN`), the
same list in web and worker processes. On the embedded default (``MAMORI_TASK_BROKER_URL``
empty) ``mamori serve`` runs the jobs and delivers queued mail in a background thread
(:mod:`mamori.tasks.inprocess`); in production a Celery worker and beat (``mamori worker``,
:mod:`mamori.tasks.celery_app`) do it, on Redis or RabbitMQ.
"""
