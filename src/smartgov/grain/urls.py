from django.urls import path

from . import views

app_name = "grain"
urlpatterns = [
    path("", views.supervision, name="supervision"),
    path("depots/<int:depot_id>/", views.depot, name="depot"),
    path("warehouses/<int:warehouse_id>/", views.warehouse, name="warehouse"),
    path("alerts/<int:alert_id>/handle/", views.handle_alert, name="handle_alert"),
    path("prices/", views.prices, name="prices"),
    path("parameters/", views.parameters, name="parameters"),
    path("prices/import/", views.import_prices, name="import_prices"),
]
