import logging
import time

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from . import logs
from .errors import DomainError, NotAuthenticated

access_log = logging.getLogger("smartgov.request")


class RequestIdMiddleware:
    """First of all middleware: gives the request its id (``core.logs``: the proxy's or client's
    ``X-Request-ID`` when well formed, else a new one), echoes it in the response, and writes one access
    line per request (method, path without the query string — it may hold personal data —, status,
    milliseconds, user id). Every log line and audit entry written meanwhile carries the same id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = logs.incoming_request_id(request.headers.get("X-Request-ID"))
        token = logs.request_id.set(rid)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            user = getattr(request, "user", None)
            access_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
                "method": request.method, "path": request.path, "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "user": user.pk if user is not None and user.is_authenticated else None})
        finally:
            logs.request_id.reset(token)
        response["X-Request-ID"] = rid
        return response


class DomainErrorPageMiddleware:
    """Pages: a DomainError raised by a service becomes a friendly error page with its status.
    (The API has its own handlers in config/api.py and returns JSON.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DomainError) or request.path.startswith("/api/"):
            return None
        if isinstance(exception, NotAuthenticated):
            return redirect_to_login(request.get_full_path())
        explanations = {403: _("如需开通权限，请联系本部门管理员。"), 404: _("该记录不存在，或不在您所在部门的可见范围内。")}
        return render(request, "error.html", {
            "status": exception.status, "heading": exception.message, "code": exception.code,
            "explanation": explanations.get(exception.status, _("请检查后重试。")),
        }, status=exception.status)


class ChineseFirstLocaleMiddleware:
    """Chinese unless the user chose otherwise: the language switch's cookie decides, the browser's
    Accept-Language does not (a government portal speaks Chinese first). Replaces LocaleMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ["Cookie"])
        return response


class IdleSessionMiddleware:
    """Idle expiry without a database write on every request: a signed-in session's expiry is pushed
    forward (saved) at most once a minute, so a session ends ``SESSION_COOKIE_AGE`` seconds (± 60 s)
    after the last request. Reads (a citizen checking a case) then cost no write."""

    REFRESH_SECONDS = 60
    KEY = "_sg_seen"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            now = int(time.time())
            if now - session.get(self.KEY, 0) >= self.REFRESH_SECONDS:
                session[self.KEY] = now  # marks the session modified: saved with a new expiry
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """Every response says which powerful browser features the page may use (settings.PERMISSIONS_POLICY;
    by default none). The Content-Security-Policy comes from Django's own middleware (settings.SECURE_CSP)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class RequestSizeLimitMiddleware:
    """Every request body is bounded (settings.MAX_REQUEST_BYTES): one that declares a longer
    Content-Length is answered 413 before a byte of it is read. Streamed bodies (chunked, read by the
    capture endpoint) are counted as they are read (:func:`limited_body`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            body = {"code": "request_too_large", "message": "请求体超过允许的大小",
                    "detail": {"limit_bytes": settings.MAX_REQUEST_BYTES, "content_length": length}}
            response = JsonResponse(body, status=413, json_dumps_params={"ensure_ascii": False})
            response["Connection"] = "close"  # the unread body is not drained
            return response
        return self.get_response(request)


def limited_body(request, limit: int, chunk: int = 1 << 20):
    """The request body as chunks, raising RequestDataTooBig (answered 413) once more than ``limit`` bytes
    came — for bodies without a Content-Length, which the middleware cannot check up front."""
    seen = 0
    while data := request.read(chunk):
        seen += len(data)
        if seen > limit:
            raise RequestDataTooBig(f"request body over {limit} bytes")
        yield data
