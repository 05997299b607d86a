"""Periodic work of the park."""

from datetime import timedelta

from django.tasks import task
from django.utils import timezone

from smartgov.core.permissions import system_actor
from smartgov.core.tasks import schedule_next

from . import services
from .models import Park

# Yesterday's anomalies, four times a day: a late reading still counts, and each run replaces the day's
# findings (a run reads two days of every meter's readings, so not every minute).
ANOMALIES_EVERY_SECONDS = 6 * 3600


@task()
def detect_yesterdays_energy_anomalies() -> int:
    """能耗异常 of yesterday (local) in every park; returns how many were found (safe to run again)."""
    try:
        actor = system_actor("park.energy_anomalies")
        day = timezone.localdate() - timedelta(days=1)
        return sum(len(services.detect_energy_anomalies(actor=actor, park=park, day=day))
                   for park in Park.objects.select_related("department").order_by("pk"))
    finally:
        schedule_next(detect_yesterdays_energy_anomalies, ANOMALIES_EVERY_SECONDS)
