"""Test-only URLs: the project's, plus the identity pages and the identity router on its own NinjaAPI
(with the project API's error handlers), until config/urls.py and config/api.py mount them."""

from django.urls import include, path
from ninja import NinjaAPI
from ninja.security import django_auth

from smartgov.config import api as project_api
from smartgov.config.urls import handler403, handler404  # noqa: F401 (the project's error pages)
from smartgov.config.urls import urlpatterns as project_urlpatterns
from smartgov.core.renderers import ORJSONParser, ORJSONRenderer
from smartgov.identity.api import router

identity_api = NinjaAPI(title="identity (tests)", version="test", auth=django_auth, urls_namespace="identity_api",
                        renderer=ORJSONRenderer(), parser=ORJSONParser())
for exc_class, handler in project_api.api._exception_handlers.items():
    identity_api.add_exception_handler(exc_class, handler)
identity_api.add_router("/identity/", router)

urlpatterns = [
    path("api/", identity_api.urls),  # tried first; everything else falls through to the project's API
    path("identity/", include("smartgov.identity.urls")),
    *project_urlpatterns,
]
