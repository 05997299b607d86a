from django.urls import path

from . import views

app_name = "seccloud"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("events/", views.events, name="events"),
    path("events/export/", views.export_events, name="export_events"),
    path("quarantine/", views.quarantine, name="quarantine"),
    path("sources/", views.sources, name="sources"),
    path("rules/", views.rules, name="rules"),
    path("rules/<int:rule_id>/", views.rule, name="rule"),
    path("incidents/", views.incidents, name="incidents"),
    path("incidents/<int:incident_id>/", views.incident, name="incident"),
    path("self-check/", views.self_check, name="self_check"),
    path("self-check/<int:check_id>.pdf", views.self_check_pdf, name="self_check_pdf"),
    path("keys/", views.key_management, name="keys"),
]
