from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "smartgov.workflow"
    label = "workflow"
    verbose_name = "流程引擎"

    def ready(self):
        from . import permissions  # noqa: F401
