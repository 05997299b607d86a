from django.urls import path
from django.views.generic import RedirectView

from . import views
from .views.lookup import progress_lookup

app_name = "onestop"
urlpatterns = [
    # citizens: 办事大厅, guides, applying, 一件事, 我的办件, inbox
    path("", views.hall, name="hall"),
    path("items/<str:code>/", views.item_guide, name="item"),
    path("items/<str:code>/plan/", views.item_plan, name="item_plan"),
    path("items/<str:code>/apply/", views.item_apply, name="apply"),
    path("items/<str:code>/apply/materials/<str:key>/", views.item_material_review, name="apply_material"),  # 智能预审
    path("bundles/<str:code>/", views.bundle_apply, name="bundle"),
    path("bundles/<str:code>/materials/<str:key>/", views.bundle_material_review, name="bundle_material"),  # 智能预审
    path("mine/", views.mine, name="mine"),
    path("cases/<str:number>/", views.case_detail, name="case"),
    path("cases/<str:number>/supplement/", views.case_supplement, name="supplement"),
    path("cases/<str:number>/withdraw/", views.case_withdraw, name="withdraw"),
    path("cases/<str:number>/evaluate/", views.case_evaluate, name="evaluate"),
    path("progress/", progress_lookup, name="progress"),  # 办件查询, no sign-in
    path("inbox/", RedirectView.as_view(pattern_name="portal:inbox"), name="inbox"),  # the one inbox
    # notices: public verification, PDF for the applicant and staff who see the case
    path("notices/<str:number>/", views.notice_verify, name="notice"),
    path("notices/<str:number>/pdf", views.notice_pdf, name="notice_pdf"),
    path("materials/<int:stored_id>/", views.material_file, name="material_file"),
    # officers: 我的待办, acting on a case, rectification tickets, measures
    path("work/", views.work_queue, name="work"),
    path("work/counter/", views.counter_intake, name="counter"),  # 窗口受理
    path("work/counter/materials/<str:key>/", views.counter_material_review, name="counter_material"),  # 智能预审
    path("work/case/<int:pk>/", views.work_by_id, name="work_by_id"),
    path("work/<str:number>/", views.work_case, name="work_case"),
    path("work/<str:number>/act/<str:action>/", views.work_act, name="work_act"),
    path("work/<str:number>/check/<int:stored_id>/", views.work_check_material, name="work_check"),
    path("rectifications/", views.rectifications, name="rectifications"),
    path("rectifications/<int:ticket_id>/<str:step>/", views.rectification_act, name="rectification_act"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
