from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "smartgov.exchange"
    label = "exchange"
    verbose_name = "政务数据共享交换"

    def ready(self):
        from smartgov.core.tasks import register_periodic
        from smartgov.licences.hooks import on_licence_change  # deferred: app modules load once the registry is ready

        from . import permissions  # noqa: F401
        from .services.publishers import licence_changed  # deferred: app modules load once the registry is ready
        from .tasks import SEAL_EVERY_SECONDS, seal_exchange_batch

        register_periodic(seal_exchange_batch, SEAL_EVERY_SECONDS)
        on_licence_change(licence_changed)  # licences publish on the exchange as they are issued or revoked
