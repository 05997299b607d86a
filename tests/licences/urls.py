"""The project's URLs plus this app's, mounted as the lead wires them in config (urls.py and api.py).

Until then the licences router lives in a test NinjaAPI that shares the project API's error handlers.
"""

from django.urls import include, path
from ninja import NinjaAPI
from ninja.security import django_auth

from smartgov.config import urls as project
from smartgov.config.api import api as project_api
from smartgov.core.renderers import ORJSONParser, ORJSONRenderer

api = NinjaAPI(title="licences test", version="test", auth=django_auth, urls_namespace="licences_test_api",
               renderer=ORJSONRenderer(), parser=ORJSONParser())
api._exception_handlers = dict(project_api._exception_handlers)
api.add_router("/licences/", "smartgov.licences.api.router")

_mounted = {str(p.pattern) for p in project.urlpatterns}
urlpatterns = [path("api/", api.urls)]
if "licences/" not in _mounted:
    urlpatterns.append(path("licences/", include("smartgov.licences.urls")))
if "verify/" not in _mounted:
    urlpatterns.append(path("verify/", include("smartgov.licences.verify_urls")))
urlpatterns += project.urlpatterns

handler403 = project.handler403
handler404 = project.handler404
