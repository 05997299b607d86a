from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "smartgov.accounts"
    label = "accounts"
    verbose_name = "账号与部门"

    def ready(self):
        from . import permissions  # noqa: F401, PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
