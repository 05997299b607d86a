from django.apps import AppConfig


class TraceConfig(AppConfig):
    name = "smartgov.trace"
    label = "trace"
    verbose_name = "药品（疫苗）追溯监管"

    def ready(self):
        from . import permissions  # noqa: F401
