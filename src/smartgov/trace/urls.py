from django.urls import path

from . import views

app_name = "trace"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("code/", views.code_trace, name="code"),
    path("recalls/", views.recalls, name="recalls"),
    path("recalls/start/", views.start_recall, name="start_recall"),
    path("recalls/<int:pk>/", views.recall_detail, name="recall"),
    path("recalls/<int:pk>/complete/", views.complete_recall, name="complete_recall"),
    path("alerts/<int:pk>/acknowledge/", views.acknowledge_alert, name="acknowledge_alert"),
    path("alerts/<int:pk>/release/", views.release_alert, name="release_alert"),
    path("lookup/", views.public_lookup, name="lookup"),
    path("vaccinate/", views.vaccinate, name="vaccinate"),
]
