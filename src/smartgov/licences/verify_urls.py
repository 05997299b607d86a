"""The public verification page, mounted at the top level as /verify/ (what the QR codes point to)."""

from django.urls import path

from . import views

app_name = "verify"
urlpatterns = [path("", views.verify, name="page")]
