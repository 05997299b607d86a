from django.apps import AppConfig


class GrainConfig(AppConfig):
    name = "smartgov.grain"
    label = "grain"
    verbose_name = "智能粮库"

    def ready(self):
        from . import permissions  # noqa: F401
