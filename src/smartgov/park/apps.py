from django.apps import AppConfig

from smartgov.core.tasks import register_periodic


class ParkConfig(AppConfig):
    name = "smartgov.park"
    label = "park"
    verbose_name = "智慧园区：空间、企业与租赁、设备与能耗"

    def ready(self):
        from smartgov.onestop import hooks as onestop_hooks

        from . import permissions  # noqa: F401  # deferred: registered once the apps are ready
        from .service_items import validate_application

        onestop_hooks.on_validate(validate_application)  # the park's checks of its 企业服务 applications
        from .tasks import (  # deferred: the tasks import the services, which need the models loaded
            ANOMALIES_EVERY_SECONDS,
            detect_yesterdays_energy_anomalies,
        )

        register_periodic(detect_yesterdays_energy_anomalies, ANOMALIES_EVERY_SECONDS)
