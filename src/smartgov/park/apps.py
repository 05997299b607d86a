from django.apps import AppConfig


class ParkConfig(AppConfig):
    name = "smartgov.park"
    label = "park"
    verbose_name = "智慧园区：空间、企业与租赁、设备与能耗"

    def ready(self):
        from . import permissions  # noqa: F401
