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
