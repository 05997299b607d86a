"""Jobs of 追溯监管 on the database queue: delivery of EPCIS query subscriptions (see subscriptions.py)."""

from django.tasks import task
from django.utils import timezone

from smartgov.core.tasks import schedule_next

SCHEDULE_EVERY_SECONDS = 60


@task()
def deliver_subscription(subscription_id: str, attempt: int = 0, scheduled: bool = False) -> str:
    from . import subscriptions

    outcome = subscriptions.deliver(subscription_id, scheduled=scheduled)
    if outcome == "failed":
        subscriptions.after_failure(subscription_id, attempt)
    return outcome


@task()
def notify_streams() -> int:
    """After a capture: every stream subscription looks for new events."""
    from .models import QuerySubscription

    ids = list(QuerySubscription.objects.filter(stream=True).values_list("subscription_id", flat=True))
    for sid in ids:
        deliver_subscription.enqueue(sid)
    return len(ids)


@task()
def run_schedules() -> int:
    from . import subscriptions

    due = subscriptions.due_schedules(timezone.now())
    for sid in due:
        deliver_subscription.enqueue(sid, 0, True)
    schedule_next(run_schedules, SCHEDULE_EVERY_SECONDS)
    return len(due)
