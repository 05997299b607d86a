"""Test-only URLs: the project's pages plus a NinjaAPI that mounts only the biometrics router, with the
project's error handlers (so error bodies take the platform's one shape)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import django_auth

from smartgov.config import api as project_api
from smartgov.config.urls import urlpatterns as project_urlpatterns
from smartgov.core.errors import DomainError
from smartgov.core.renderers import ORJSONParser, ORJSONRenderer

api = NinjaAPI(auth=django_auth, urls_namespace="biometrics_test_api", renderer=ORJSONRenderer(),
               parser=ORJSONParser())
for kind, handler in [(DomainError, project_api.domain_error), (ValidationError, project_api.validation_error),
                      (HttpError, project_api.http_error), (AuthenticationError, project_api.auth_error),
                      (PermissionDenied, project_api.permission_denied), (Http404, project_api.not_found),
                      (Exception, project_api.server_error)]:
    api.add_exception_handler(kind, handler)
api.add_router("/biometrics/", "smartgov.biometrics.api.router")

urlpatterns = [path("test-api/", api.urls), *project_urlpatterns]
