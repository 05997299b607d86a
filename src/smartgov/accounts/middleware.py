from django.contrib.auth import logout
from django.shortcuts import redirect

from .views import VERIFIED


class StaffTwoFactorMiddleware:
    """A staff session is only valid once the second factor was checked (MLPS 2.0 level 3, 双因子).

    Staff are logged in only after the TOTP step, so this catches sessions made any other way
    (e.g. a role changed to staff while signed in): they are signed out.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff_role \
                and not request.session.get(VERIFIED):
            logout(request)
            if not request.path.startswith("/api/"):
                return redirect(f"/accounts/login/?next={request.path}")
        return self.get_response(request)
