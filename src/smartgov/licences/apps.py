from django.apps import AppConfig


class LicencesConfig(AppConfig):
    name = "smartgov.licences"
    label = "licences"
    verbose_name = "电子证照"

    def ready(self):
        from . import permissions  # noqa: F401
