from django.urls import path

from . import views

app_name = "overview"

urlpatterns = [
    path("", views.screen, name="screen"),
    path("wall/", views.wall, name="wall"),
    path("data/", views.data, name="data"),
    path("live/", views.stream, name="stream"),
    path("reports/", views.report_list, name="reports"),
    path("reports/<int:report_id>.pdf", views.report_download, {"fmt": "pdf"}, name="report_pdf"),
    path("reports/<int:report_id>.xlsx", views.report_download, {"fmt": "xlsx"}, name="report_xlsx"),
    path("acknowledge/", views.acknowledge, name="acknowledge"),
]
