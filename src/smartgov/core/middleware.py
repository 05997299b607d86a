from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from .errors import DomainError, NotAuthenticated


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
            from django.contrib.auth.views import redirect_to_login

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
        from django.conf import settings
        from django.utils import translation

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
        import time

        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            now = int(time.time())
            if now - session.get(self.KEY, 0) >= self.REFRESH_SECONDS:
                session[self.KEY] = now  # marks the session modified: saved with a new expiry
        return self.get_response(request)
