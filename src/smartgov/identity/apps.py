from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "smartgov.identity"
    label = "identity"
    verbose_name = "身份与人口/法人库"

    def ready(self):
        from . import permissions  # noqa: F401, PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
