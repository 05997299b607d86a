from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "smartgov.audit"
    label = "audit"
    verbose_name = "审计"

    def ready(self):
        from django.conf import settings  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        from smartgov.core.tasks import register_periodic  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        from . import permissions  # noqa: F401, PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready  (registers the app's permissions)
        from .tasks import CHECKPOINT_EVERY_SECONDS, cut_audit_checkpoint, verify_audit_trail  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        register_periodic(cut_audit_checkpoint, CHECKPOINT_EVERY_SECONDS)
        if settings.AUDIT_VERIFY_SECONDS > 0:
            register_periodic(verify_audit_trail, settings.AUDIT_VERIFY_SECONDS)
