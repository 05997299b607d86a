from django.apps import AppConfig


class BiometricsConfig(AppConfig):
    name = "smartgov.biometrics"
    label = "biometrics"
    verbose_name = "生物特征比对"

    def ready(self):
        from smartgov.core.tasks import register_periodic

        from . import permissions  # noqa: F401  (registers the app's permissions)
        from .tasks import CHECKPOINT_EVERY_SECONDS, checkpoint_biometric_indexes

        register_periodic(checkpoint_biometric_indexes, CHECKPOINT_EVERY_SECONDS)
