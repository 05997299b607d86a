from django.apps import AppConfig


class EidConfig(AppConfig):
    name = "smartgov.eid"
    label = "eid"
    verbose_name = "EID与身份认证"

    def ready(self):
        from . import permissions  # noqa: F401, PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
