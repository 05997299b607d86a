from django.shortcuts import render

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
        return render(request, "error.html", {"status": exception.status, "heading": exception.message,
                                              "explanation": exception.code}, status=exception.status)
