from django.urls import path

from . import views

app_name = "park"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:park_id>/", views.dashboard, name="dashboard"),
    path("<int:park_id>/alarms/", views.alarms, name="alarms"),
    path("<int:park_id>/alarms/<int:alarm_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<int:park_id>/enterprises/", views.register_enterprise, name="register_enterprise"),
    path("<int:park_id>/devices/", views.provision_device, name="provision_device"),
    path("<int:park_id>/rules/", views.save_rule, name="save_rule"),
    path("enterprises/<int:enterprise_id>/", views.enterprise, name="enterprise"),
    path("enterprises/<int:enterprise_id>/leases/", views.create_lease, name="create_lease"),
    path("enterprises/<int:enterprise_id>/statements/", views.issue_statement, name="issue_statement"),
    path("statements/<int:statement_id>/", views.statement, name="statement"),
    path("lease-template.xlsx", views.lease_template, name="lease_template"),
    path("<int:park_id>/leases/import/", views.import_leases, name="import_leases"),
    path("<int:park_id>/tariff/", views.set_tariff, name="set_tariff"),
    path("<int:park_id>/energy-anomalies/", views.detect_anomalies, name="detect_anomalies"),
    path("<int:park_id>/visitors/", views.visitors, name="visitors"),
    path("<int:park_id>/visitors/log/", views.visit_log, name="visit_log"),
    path("<int:park_id>/visitors/register/", views.register_visit, name="register_visit"),
    path("<int:park_id>/visitors/gate/", views.gate, name="gate"),
    path("visits/<int:visit_id>/", views.visit, name="visit"),
    path("visits/<int:visit_id>/cancel/", views.cancel_visit, name="cancel_visit"),
]
