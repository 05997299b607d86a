"""Background jobs: Django's tasks framework on a database-backed queue (django-tasks-db).

- ``enqueue_on_commit(task, ...)``: queue only once the surrounding transaction commits, so a job
  never runs against data that was rolled back (and nothing is queued twice on retry).
- Periodic jobs: apps register ``(task, every_seconds)``; the worker makes sure exactly one future
  run of each is waiting, and each run queues the next. Every task must be safe to run again.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Count
from django.tasks import TaskResultStatus
from django.utils import timezone

from . import logs

PERIODIC: list[tuple[object, int]] = []


def enqueue_on_commit(task, *args, **kwargs) -> None:
    transaction.on_commit(lambda: task.enqueue(*args, **kwargs))


def register_periodic(task, every_seconds: int) -> None:
    if all(t is not task for t, _ in PERIODIC):
        PERIODIC.append((task, every_seconds))


def schedule_next(task, every_seconds: int) -> None:
    """Queue the next run of a periodic task unless one is already waiting."""
    from django_tasks_db.models import DBTaskResult  # noqa: PLC0415 — deferred: django_tasks_db.models loads models, importable only once the app registry is ready

    if DBTaskResult.objects.filter(task_path=task.module_path, status=TaskResultStatus.READY).exists():
        return
    token = logs.request_id.set("")  # the next run of a timer belongs to no request
    try:
        task.using(run_after=timezone.now() + timedelta(seconds=every_seconds)).enqueue()
    finally:
        logs.request_id.reset(token)


def schedule_periodic() -> None:
    for task, every in PERIODIC:
        schedule_next(task, every)


def queue_depth() -> dict[tuple[str], int]:
    """Jobs waiting to run, by queue (for the metrics endpoint)."""
    from django_tasks_db.models import DBTaskResult  # noqa: PLC0415 — deferred: django_tasks_db.models loads models, importable only once the app registry is ready

    rows = DBTaskResult.objects.ready().values("queue_name").annotate(n=Count("id")).order_by()
    return {(r["queue_name"],): r["n"] for r in rows}
