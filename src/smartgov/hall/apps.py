from django.apps import AppConfig


class HallConfig(AppConfig):
    name = "smartgov.hall"
    label = "hall"
    verbose_name = "出入境智慧大厅"

    def ready(self):
        from . import permissions  # noqa: F401, PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
