from django.apps import AppConfig


class GrainConfig(AppConfig):
    name = "smartgov.grain"
    label = "grain"
    verbose_name = "智能粮库"

    def ready(self):
        from smartgov.iot.broker import register_topics  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        from . import permissions  # noqa: F401, PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready
        from .mqtt import scan_topic  # noqa: PLC0415 — deferred: AppConfig.ready() runs once the app registry is ready

        # a depot's gateway publishes the scans of its own depot only; ingest workers read them all
        register_topics("grain", lambda tags, prefix: [("write", scan_topic(prefix, tags["depot"], "+"))],
                        worker_reads=lambda prefix: scan_topic(prefix, "+", "+"))
