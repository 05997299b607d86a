from django.apps import AppConfig


class SmartConfig(AppConfig):
    name = "smartgov.smart"
    label = "smart"
    verbose_name = "用数赋智：免申即享、秒批、智能预审"

    def ready(self):
        from smartgov.core.tasks import register_periodic  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
        from smartgov.exchange.services import register_handler  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
        from smartgov.onestop.hooks import on_material_review, on_submitted  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        from . import permissions  # noqa: F401, PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
        from .selectors import reviews_of_stored  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
        from .services import handle_exchange_event, instant_approve_after_commit, prereview_material  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
        from .tasks import SCREEN_EVERY_SECONDS, screen_entitlements  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        register_periodic(screen_entitlements, SCREEN_EVERY_SECONDS)
        register_handler("smart.entitlements", handle_exchange_event)
        on_submitted(instant_approve_after_commit)
        on_material_review(run=prereview_material, read=reviews_of_stored)
