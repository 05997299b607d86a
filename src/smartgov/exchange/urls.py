from django.urls import path

from . import views

app_name = "exchange"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("catalogue.xlsx", views.export_catalogue, name="export_catalogue"),
    path("import/", views.import_catalogue, name="import_catalogue"),
    path("resources/<str:code>/", views.resource, name="resource"),
    path("resources/<str:code>/apply/", views.apply, name="apply"),
    path("agreements/", views.agreements, name="agreements"),
    path("agreements/<int:agreement_id>/<str:action>/", views.decide, name="decide"),
    path("calls/", views.calls, name="calls"),
    path("calls/<str:message_id>/evidence/", views.evidence, name="evidence"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path("subscriptions/new/", views.subscribe, name="subscribe"),
    path("subscriptions/<int:subscription_id>/<str:action>/", views.subscription_action, name="subscription_action"),
    path("stats/", views.stats, name="stats"),
    path("stats.xlsx", views.stats_export, name="stats_export"),
    path("quality/", views.quality, name="quality"),
]
