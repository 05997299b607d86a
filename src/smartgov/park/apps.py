from django.apps import AppConfig


class ParkConfig(AppConfig):
    name = "smartgov.park"
    label = "park"
    verbose_name = "智慧园区：空间、企业与租赁、设备与能耗"

    def ready(self):
        from smartgov.core.tasks import register_periodic  # deferred: app registry ready first

        from . import permissions  # noqa: F401  # deferred: registered once the apps are ready
        from .tasks import ANOMALIES_EVERY_SECONDS, detect_yesterdays_energy_anomalies  # deferred: models loaded

        register_periodic(detect_yesterdays_energy_anomalies, ANOMALIES_EVERY_SECONDS)
