from django.apps import AppConfig


class OnestopConfig(AppConfig):
    name = "smartgov.onestop"
    label = "onestop"
    verbose_name = "一网通办"

    def ready(self):
        from . import permissions  # noqa: F401, PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
