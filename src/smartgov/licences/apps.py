from django.apps import AppConfig


class LicencesConfig(AppConfig):
    name = "smartgov.licences"
    label = "licences"
    verbose_name = "电子证照"

    def ready(self):
        from smartgov.core.tasks import register_periodic  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        from . import permissions  # noqa: F401, PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
        from .tasks import EXPIRE_EVERY_SECONDS, expire_licences  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        register_periodic(expire_licences, EXPIRE_EVERY_SECONDS)
