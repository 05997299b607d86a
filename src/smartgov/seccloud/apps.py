from django.apps import AppConfig


class SecCloudConfig(AppConfig):
    name = "smartgov.seccloud"
    label = "seccloud"
    verbose_name = "航天智慧安全云"

    def ready(self):
        from . import permissions, tasks  # noqa: F401, PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
