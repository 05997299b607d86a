from django.urls import path

from . import views

app_name = "smart"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("entitlements/", views.dashboard, name="entitlements"),
    path("entitlements/<str:code>/", views.entitlement, name="entitlement"),
    path("grants/<int:grant_id>/", views.grant, name="grant"),
    path("rules/<str:code>/", views.rules, name="rules"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:approval_id>/", views.approval, name="approval"),
    path("approvals/<int:approval_id>/review/", views.review, name="review"),
    path("mine/", views.mine, name="mine"),
    path("mine/<int:grant_id>/", views.my_grant, name="my_grant"),
    path("prereview/", views.prereview, name="prereview"),
]
