from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("workbench/", views.workbench, name="workbench"),
    path("my/", views.citizen_home, name="mine"),
    path("inbox/", views.inbox, name="inbox"),
    path("signin/", views.signin, name="signin"),
]
