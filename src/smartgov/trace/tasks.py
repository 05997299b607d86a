"""Jobs of 追溯监管 on the database queue: delivery of EPCIS query subscriptions (see subscriptions.py)."""

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from smartgov.core.tasks import schedule_next

from . import subscriptions
from .models import QuerySubscription

SCHEDULE_EVERY_SECONDS = 60


@task()
def deliver_subscription(subscription_id: str, attempt: int = 0, scheduled: bool = False) -> str:
    outcome = subscriptions.deliver(subscription_id, scheduled=scheduled)
    if outcome == "failed":
        run_after = subscriptions.retry_after(subscription_id, attempt)
        if run_after is not None:
            transaction.on_commit(lambda: deliver_subscription.using(run_after=run_after).enqueue(
                subscription_id, attempt + 1))
    return outcome


@task()
def notify_streams() -> int:
    """After a capture: every webhook stream subscription looks for new events; every WebSocket stream
    subscription is marked for the live server that holds its socket."""
    ids = list(QuerySubscription.objects.filter(stream=True, websocket=False).values_list("subscription_id", flat=True))
    for sid in ids:
        deliver_subscription.enqueue(sid)
    return len(ids) + subscriptions.signal_websockets()


@task()
def run_schedules() -> int:
    due = subscriptions.due_schedules(timezone.now())
    for sid in due:
        deliver_subscription.enqueue(sid, 0, True)
    schedule_next(run_schedules, SCHEDULE_EVERY_SECONDS)
    return len(due)
