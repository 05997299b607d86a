from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "smartgov.exchange"
    label = "exchange"
    verbose_name = "政务数据共享交换"

    def ready(self):
        from smartgov.core.tasks import register_periodic  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
        from smartgov.licences.hooks import on_licence_change  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        from . import permissions  # noqa: F401, PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
        from .services.publishers import licence_changed  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
        from .tasks import SEAL_EVERY_SECONDS, seal_exchange_batch  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        register_periodic(seal_exchange_batch, SEAL_EVERY_SECONDS)
        on_licence_change(licence_changed)  # licences publish on the exchange as they are issued or revoked
