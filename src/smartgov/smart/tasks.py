"""Background work: the 免申即享 screen and the recheck of due grants (periodic, on the worker; also
``smartgov smart screen`` for cron)."""

from django.conf import settings
from django.tasks import task

from smartgov.core.permissions import system_actor
from smartgov.core.tasks import schedule_next

from .services import screen

SCREEN_EVERY_SECONDS = settings.SMART_SCREEN_SECONDS


@task()
def screen_entitlements() -> dict:
    try:
        return screen(actor=system_actor("smart.screen"))
    finally:
        schedule_next(screen_entitlements, SCREEN_EVERY_SECONDS)
