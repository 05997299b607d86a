from django.tasks import task

from smartgov.core.tasks import schedule_next

from .services import escalate_overdue_tasks

ESCALATE_EVERY_SECONDS = 3600  # hourly: a case turns red at midnight; an hour later it is on the head's desk


@task()
def escalate_overdue() -> int:
    """红牌督办: open tasks of running cases past their deadline go to the department head (once)."""
    count = escalate_overdue_tasks()
    schedule_next(escalate_overdue, ESCALATE_EVERY_SECONDS)
    return count
