from django.apps import AppConfig

from smartgov.core.tasks import register_periodic


class ParkConfig(AppConfig):
    name = "smartgov.park"
    label = "park"
    verbose_name = "智慧园区：空间、企业与租赁、设备与能耗"

    def ready(self):
        from smartgov.onestop import hooks as onestop_hooks  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        from . import permissions  # noqa: F401, PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready  # deferred: registered once the apps are ready
        from .service_items import validate_application  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        onestop_hooks.on_validate(validate_application)  # the park's checks of its 企业服务 applications
        from .tasks import (  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
            ANOMALIES_EVERY_SECONDS,
            detect_yesterdays_energy_anomalies,
        )

        register_periodic(detect_yesterdays_energy_anomalies, ANOMALIES_EVERY_SECONDS)
