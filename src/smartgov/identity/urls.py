from django.urls import path

from . import views

app_name = "identity"
urlpatterns = [
    path("", views.persons, name="persons"),
    path("persons/new/", views.person_new, name="person_new"),
    path("persons/<int:pk>/", views.person_detail, name="person_detail"),
    path("persons/<int:pk>/reveal/", views.person_reveal, name="person_reveal"),
    path("persons/export.<str:fmt>", views.export, {"kind": "persons"}, name="export_persons"),
    path("enterprises/", views.enterprises, name="enterprises"),
    path("enterprises/new/", views.enterprise_new, name="enterprise_new"),
    path("enterprises/<int:pk>/", views.enterprise_detail, name="enterprise_detail"),
    path("enterprises/<int:pk>/status/", views.enterprise_status, name="enterprise_status"),
    path("enterprises/export.<str:fmt>", views.export, {"kind": "enterprises"}, name="export_enterprises"),
    path("import/", views.import_file, name="import"),
    path("import/template-<str:kind>.xlsx", views.import_template, name="import_template"),
    path("imports/<int:pk>/", views.import_result, name="import_result"),
    path("imports/<int:pk>/report.xlsx", views.import_report, name="import_report"),
]
