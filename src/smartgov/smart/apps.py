from django.apps import AppConfig


class SmartConfig(AppConfig):
    name = "smartgov.smart"
    label = "smart"
    verbose_name = "用数赋智：免申即享、秒批、智能预审"

    def ready(self):
        from smartgov.core.tasks import register_periodic
        from smartgov.exchange.services import register_handler
        from smartgov.onestop.hooks import on_material_review, on_submitted

        from . import permissions  # noqa: F401
        from .selectors import reviews_of_stored
        from .services import handle_exchange_event, instant_approve_after_commit, prereview_material
        from .tasks import SCREEN_EVERY_SECONDS, screen_entitlements

        register_periodic(screen_entitlements, SCREEN_EVERY_SECONDS)
        register_handler("smart.entitlements", handle_exchange_event)
        on_submitted(instant_approve_after_commit)
        on_material_review(run=prereview_material, read=reviews_of_stored)
