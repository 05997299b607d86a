from django.urls import path

from . import views

app_name = "eid"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("register/", views.register_view, name="register"),
    path("login/", views.login_view, name="login"),
    path("login/code/", views.code_view, name="login_code"),
    path("kiosk/", views.kiosk_view, name="kiosk"),
    path("kiosk/wait/", views.kiosk_wait, name="kiosk_wait"),
    path("kiosk/<str:code>/approve/", views.kiosk_approve, name="kiosk_approve"),
    path("apply/", views.apply, name="apply"),
    path("card.pdf", views.card_pdf, name="card"),
    path("vids/", views.vid_create, name="vid_create"),
    path("vids/<str:vid>/revoke/", views.vid_revoke, name="vid_revoke"),
    path("consents/", views.consent_grant, name="consent_grant"),
    path("consents/<int:pk>/revoke/", views.consent_revoke, name="consent_revoke"),
    path("check/", views.check, name="check"),
]
