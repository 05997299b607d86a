from django.urls import path

from . import views

app_name = "licences"
urlpatterns = [
    path("", views.licence_list, name="list"),
    path("wallet/", views.wallet, name="wallet"),
    path("issue/", views.issue, name="issue"),
    path("<int:licence_id>/", views.detail, name="detail"),
    path("<int:licence_id>/end/", views.end, name="end"),
    path("<int:licence_id>/pdf/", views.pdf, name="pdf"),
]
