from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "smartgov.workflow"
    label = "workflow"
    verbose_name = "流程引擎"

    def ready(self):
        from smartgov.core.tasks import register_periodic

        from . import permissions  # noqa: F401
        from .tasks import ESCALATE_EVERY_SECONDS, escalate_overdue

        register_periodic(escalate_overdue, ESCALATE_EVERY_SECONDS)
