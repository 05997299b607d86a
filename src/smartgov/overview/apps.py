from django.apps import AppConfig


class OverviewConfig(AppConfig):
    name = "smartgov.overview"
    label = "overview"
    verbose_name = "城市运行总览"

    def ready(self):
        from django.conf import settings  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        from smartgov.core.tasks import register_periodic  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        from . import permissions  # noqa: F401, PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
        from .tasks import REPORT_EVERY_SECONDS, generate_reports  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        if settings.OVERVIEW_REPORT_PERIODS:
            register_periodic(generate_reports, REPORT_EVERY_SECONDS)
