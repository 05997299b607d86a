from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "smartgov.workflow"
    label = "workflow"
    verbose_name = "流程引擎"

    def ready(self):
        from smartgov.core.tasks import register_periodic  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        from . import permissions  # noqa: F401, PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
        from .tasks import ESCALATE_EVERY_SECONDS, escalate_overdue  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        register_periodic(escalate_overdue, ESCALATE_EVERY_SECONDS)
