from django.apps import AppConfig


class OverviewConfig(AppConfig):
    name = "smartgov.overview"
    label = "overview"
    verbose_name = "城市运行总览"

    def ready(self):
        from django.conf import settings

        from smartgov.core.tasks import register_periodic

        from . import permissions  # noqa: F401
        from .tasks import REPORT_EVERY_SECONDS, generate_reports

        if settings.OVERVIEW_REPORT_PERIODS:
            register_periodic(generate_reports, REPORT_EVERY_SECONDS)
