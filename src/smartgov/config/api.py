"""The one NinjaAPI. Each app's router is mounted here; errors all take one shape."""

import logging

from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import DataError
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from django.http.request import UnreadablePostError
from django.shortcuts import render
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import django_auth

from smartgov.core import dbrouter
from smartgov.core.errors import DomainError
from smartgov.core.renderers import ORJSONParser, ORJSONRenderer


class OfflineSwagger(Swagger):
    """Swagger UI from the platform's own static copy (npm swagger-ui-dist, pinned; see
    static/vendor/swagger-ui/), so /api/docs works on a network without the internet."""

    def render_page(self, request, api, **kwargs):
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        return render(request, "api/swagger.html", {"swagger_settings": dict(self.settings), "api": api,
                                                    "add_csrf": True})


api = NinjaAPI(
    docs=OfflineSwagger(),
    title="SmartGov 智慧政务一体化平台 API",
    version="1",
    description="一网通办、身份与电子证照、数据共享及五大应用的开放接口。错误统一为 "
                '`{"code": "...", "message": "<中文>", "detail": ...}`。',
    auth=django_auth,
    urls_namespace="api",
    renderer=ORJSONRenderer(),
    parser=ORJSONParser(),
)


def _error(request, status: int, code: str, message: str, detail=None):
    return api.create_response(request, {"code": code, "message": message, "detail": detail}, status=status)


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    return _error(request, exc.status, exc.code, exc.message, exc.detail)


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    return _error(request, 422, "invalid_input", "提交的数据未通过校验", exc.errors)


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        return _error(request, 400, "invalid_json", "请求体不是有效的JSON", str(exc))
    return _error(request, exc.status_code, "http_error", "请求无法处理", str(exc))


@api.exception_handler(AuthenticationError)
def auth_error(request, exc):
    return _error(request, 401, "not_authenticated", "请先登录")


@api.exception_handler(PermissionDenied)
def permission_denied(request, exc):
    return _error(request, 403, "forbidden", "您没有执行此操作的权限")


@api.exception_handler(Http404)
def not_found(request, exc):
    return _error(request, 404, "not_found", "未找到该记录")


@api.exception_handler(OverflowError)
def out_of_range(request, exc):
    """A number beyond what the database stores (an ID or filter of 20 digits): no such record can exist."""
    return _error(request, 422, "value_out_of_range", "数值超出允许范围", str(exc))


@api.exception_handler(Exception)
def server_error(request, exc):
    if isinstance(exc, RequestDataTooBig):
        return _error(request, 413, "request_too_large", "请求体超过允许的大小", str(exc))
    if isinstance(exc, MultiPartParserError | BadRequest | SuspiciousOperation | UnreadablePostError):
        # the client's body could not be read as what its Content-Type says (Django answers these 400 too)
        return _error(request, 400, "bad_request", "请求体无法解析", str(exc))
    if isinstance(exc, DataError):  # PostgreSQL's "integer out of range" and the like: the client's value
        return out_of_range(request, exc)

    logging.getLogger("smartgov.api").exception("unhandled API error")
    return _error(request, 500, "server_error", "服务器内部错误，请稍后重试")


@api.get("/health", auth=None, tags=["平台 platform"], summary="健康检查（负载均衡器用）")
def health(request):
    """``replicas``: each read replica's replay lag and whether reads go to it (a lagging or unreachable
    one is taken out and reads fall back to the primary)."""
    return {"status": "ok", "replicas": dbrouter.status()}


api.add_router("/accounts/", "smartgov.accounts.api.router")
api.add_router("/audit/", "smartgov.audit.api.router")
api.add_router("/identity/", "smartgov.identity.api.router")
api.add_router("/eid/", "smartgov.eid.api.router")
api.add_router("/idauth/", "smartgov.eid.api.partner_router")
api.add_router("/licences/", "smartgov.licences.api.router")
api.add_router("/biometrics/", "smartgov.biometrics.api.router")
api.add_router("/workflow/", "smartgov.workflow.api.router")
api.add_router("/onestop/", "smartgov.onestop.api.router")
api.add_router("/exchange/", "smartgov.exchange.api.router")
api.add_router("/trace/", "smartgov.trace.api.router")
api.add_router("/grain/", "smartgov.grain.api.router")
api.add_router("/park/", "smartgov.park.api.router")
api.add_router("/hall/", "smartgov.hall.api.router")
api.add_router("/seccloud/", "smartgov.seccloud.api.router")
api.add_router("/smart/", "smartgov.smart.api.router")
