"""Periodic work of the IoT layer."""

from django.tasks import task

from smartgov.core.permissions import system_actor
from smartgov.core.tasks import schedule_next

from . import services

SILENCE_EVERY_SECONDS = 60
EXPIRE_EVERY_SECONDS = 3600
ESCALATE_EVERY_SECONDS = 60


@task()
def check_silent_devices() -> int:
    """无数据告警 check, every minute (safe to run again)."""
    try:
        return services.check_silent_devices(actor=system_actor("iot.no_data"))
    finally:
        schedule_next(check_silent_devices, SILENCE_EVERY_SECONDS)


@task()
def escalate_overdue_alarms() -> int:
    """告警升级 check, every minute (safe to run again)."""
    try:
        return services.escalate_overdue_alarms(actor=system_actor("iot.escalate"))
    finally:
        schedule_next(escalate_overdue_alarms, ESCALATE_EVERY_SECONDS)


@task()
def expire_iot_telemetry() -> dict:
    """Telemetry retention, hourly (safe to run again): SMARTGOV_IOT_TELEMETRY_RETENTION_DAYS."""
    try:
        return services.expire_telemetry(actor=system_actor("iot.retention"))
    finally:
        schedule_next(expire_iot_telemetry, EXPIRE_EVERY_SECONDS)
