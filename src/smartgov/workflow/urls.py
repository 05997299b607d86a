from django.urls import path

from . import views

app_name = "workflow"
urlpatterns = [
    path("", views.monitor, name="monitor"),
    path("tasks/<int:task_id>/reassign/", views.reassign_task, name="reassign"),
    path("tasks/<int:task_id>/escalate/", views.escalate_task, name="escalate"),
]
