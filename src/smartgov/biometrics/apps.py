from django.apps import AppConfig


class BiometricsConfig(AppConfig):
    name = "smartgov.biometrics"
    label = "biometrics"
    verbose_name = "生物特征比对"

    def ready(self):
        from smartgov.core.tasks import register_periodic  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        from . import permissions  # noqa: F401, PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready  (registers the app's permissions)
        from .tasks import CHECKPOINT_EVERY_SECONDS, checkpoint_biometric_indexes  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        register_periodic(checkpoint_biometric_indexes, CHECKPOINT_EVERY_SECONDS)
