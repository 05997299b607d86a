"""Background work: the weekly/monthly 运行报告 (periodic on the worker; also ``smartgov overview report``)."""

from django.conf import settings
from django.tasks import task

from smartgov.core.permissions import system_actor
from smartgov.core.tasks import schedule_next

from .services import generate_due_reports

REPORT_EVERY_SECONDS = settings.OVERVIEW_REPORT_CHECK_SECONDS


@task()
def generate_reports() -> dict:
    """Every department with a leader gets the report of each configured period once, after the period ends."""
    try:
        return generate_due_reports(actor=system_actor("overview.report"), periods=settings.OVERVIEW_REPORT_PERIODS)
    finally:
        schedule_next(generate_reports, REPORT_EVERY_SECONDS)
