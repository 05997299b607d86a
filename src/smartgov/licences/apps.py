from django.apps import AppConfig


class LicencesConfig(AppConfig):
    name = "smartgov.licences"
    label = "licences"
    verbose_name = "电子证照"

    def ready(self):
        from smartgov.core.tasks import register_periodic

        from . import permissions  # noqa: F401
        from .tasks import EXPIRE_EVERY_SECONDS, expire_licences

        register_periodic(expire_licences, EXPIRE_EVERY_SECONDS)
