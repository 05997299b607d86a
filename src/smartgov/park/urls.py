from django.urls import path

from . import views
from .views import cases

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
    # 续租 / 退租 on the workflow
    path("leases/<int:lease_id>/renewal/", cases.request_lease_change, {"kind": "renewal"}, name="request_renewal"),
    path("leases/<int:lease_id>/move-out/", cases.request_lease_change, {"kind": "move_out"}, name="request_move_out"),
    path("<int:park_id>/lease-changes/", cases.lease_changes, name="lease_changes"),
    path("lease-changes/<int:change_id>/", cases.lease_change, name="lease_change"),
    path("lease-changes/<int:change_id>/act/", cases.act_on_lease_change, name="act_on_lease_change"),
    path("lease-changes/<int:change_id>/cancel/", cases.cancel_lease_change, name="cancel_lease_change"),
    # 企业服务: the operator's list, opening the items; the enterprise's own page
    path("<int:park_id>/services/", cases.service_cases, name="service_cases"),
    path("<int:park_id>/services/items/", cases.publish_service_items, name="publish_service_items"),
    path("my/", cases.my_park, name="my"),
    path("my/<int:enterprise_id>/services/", cases.raise_service, name="raise_service"),
    path("my/leases/<int:lease_id>/renewal/", cases.request_my_lease_change, {"kind": "renewal"}, name="my_renewal"),
    path("my/leases/<int:lease_id>/move-out/", cases.request_my_lease_change, {"kind": "move_out"}, name="my_move_out"),
    path("my/lease-changes/<int:change_id>/cancel/", cases.cancel_my_lease_change, name="my_cancel_lease_change"),
    path("my/<int:enterprise_id>/visits/", views.my_register_visit, name="my_register_visit"),
    path("my/visits/<int:visit_id>/", views.my_visit, name="my_visit"),
    path("my/visits/<int:visit_id>/cancel/", views.my_cancel_visit, name="my_cancel_visit"),
]
