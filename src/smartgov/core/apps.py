from django.apps import AppConfig
from django.tasks.signals import task_enqueued, task_finished, task_started


class CoreConfig(AppConfig):
    name = "smartgov.core"
    label = "core"
    verbose_name = "平台公共能力"

    def ready(self):
        from . import logs  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        task_enqueued.connect(logs.remember_origin, dispatch_uid="smartgov.logs.origin")
        task_started.connect(logs.enter_job, dispatch_uid="smartgov.logs.enter")
        task_finished.connect(logs.leave_job, dispatch_uid="smartgov.logs.leave")
