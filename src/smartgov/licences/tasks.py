from django.tasks import task

from smartgov.core.permissions import system_actor
from smartgov.core.tasks import schedule_next

from .services import mark_expired_licences

EXPIRE_EVERY_SECONDS = 3600  # hourly: a licence's last day ends at midnight, an hour late is fine for reports


@task()
def expire_licences() -> int:
    """Store 过期 on licences past their last day, then queue the next run (safe to run again)."""
    count = mark_expired_licences(actor=system_actor("licences.expire"))
    schedule_next(expire_licences, EXPIRE_EVERY_SECONDS)
    return count
