from django.apps import AppConfig


class TraceConfig(AppConfig):
    name = "smartgov.trace"
    label = "trace"
    verbose_name = "药品（疫苗）追溯监管"

    def ready(self):
        from smartgov.core.tasks import register_periodic

        from . import permissions  # noqa: F401
        from .tasks import SCHEDULE_EVERY_SECONDS, run_schedules

        register_periodic(run_schedules, SCHEDULE_EVERY_SECONDS)
