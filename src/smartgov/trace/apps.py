from django.apps import AppConfig


class TraceConfig(AppConfig):
    name = "smartgov.trace"
    label = "trace"
    verbose_name = "药品（疫苗）追溯监管"

    def ready(self):
        from smartgov.core.tasks import register_periodic  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        from . import permissions  # noqa: F401, PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
        from .tasks import SCHEDULE_EVERY_SECONDS, run_schedules  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        register_periodic(run_schedules, SCHEDULE_EVERY_SECONDS)
