from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "smartgov.exchange"
    label = "exchange"
    verbose_name = "政务数据共享交换"

    def ready(self):
        from smartgov.core.tasks import register_periodic

        from . import permissions  # noqa: F401
        from .tasks import SEAL_EVERY_SECONDS, seal_exchange_batch

        register_periodic(seal_exchange_batch, SEAL_EVERY_SECONDS)
