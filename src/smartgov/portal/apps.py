from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "smartgov.portal"
    label = "portal"
    verbose_name = "门户"
