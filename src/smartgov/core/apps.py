from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "smartgov.core"
    label = "core"
    verbose_name = "平台公共能力"
