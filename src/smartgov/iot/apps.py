from django.apps import AppConfig


class IotConfig(AppConfig):
    name = "smartgov.iot"
    label = "iot"
    verbose_name = "物联网接入：设备、遥测与告警规则"

    def ready(self):
        from smartgov.core.tasks import register_periodic

        from . import permissions  # noqa: F401
        from .tasks import SILENCE_EVERY_SECONDS, check_silent_devices

        register_periodic(check_silent_devices, SILENCE_EVERY_SECONDS)
