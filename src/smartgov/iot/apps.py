from django.apps import AppConfig


class IotConfig(AppConfig):
    name = "smartgov.iot"
    label = "iot"
    verbose_name = "物联网接入：设备、遥测与告警规则"

    def ready(self):
        from smartgov.core.tasks import register_periodic  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        from . import permissions  # noqa: F401, PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
        from .tasks import (  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
            ESCALATE_EVERY_SECONDS,
            EXPIRE_EVERY_SECONDS,
            SILENCE_EVERY_SECONDS,
            check_silent_devices,
            escalate_overdue_alarms,
            expire_iot_telemetry,
        )

        register_periodic(check_silent_devices, SILENCE_EVERY_SECONDS)
        register_periodic(escalate_overdue_alarms, ESCALATE_EVERY_SECONDS)
        register_periodic(expire_iot_telemetry, EXPIRE_EVERY_SECONDS)
