from django.apps import AppConfig


class BiometricsConfig(AppConfig):
    name = "smartgov.biometrics"
    label = "biometrics"
    verbose_name = "生物特征比对"
