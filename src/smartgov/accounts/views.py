"""Staff and citizen sign-in: password, then (for staff) a TOTP second factor; lockout on repeated failures."""

import time

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartgov.core.errors import InvalidInput
from smartgov.core.pdf import qr_svg as draw_qr_svg

from . import services
from .backends import LockoutModelBackend
from .forms import OneTimeCodeForm, PasswordChangeForm, PasswordLoginForm
from .models import User

PENDING = "sg_pending_2fa"
VERIFIED = "sg_2fa"
PENDING_SECONDS = 300


def _next_url(request) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return reverse("portal:workbench")


def _pending_user(request) -> User | None:
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None
    user = User.objects.filter(pk=pending["user_id"], is_active=True).first()
    if user is None or user.is_locked:
        request.session.pop(PENDING, None)
        return None
    return user


def _finish_login(request, user: User, *, second_factor: bool):
    nxt = request.session.get(PENDING, {}).get("next") or _next_url(request)
    request.session.pop(PENDING, None)
    login(request, user, backend="smartgov.accounts.backends.LockoutModelBackend")
    request.session[VERIFIED] = second_factor
    services.register_login_success(user=user, second_factor=second_factor)
    return redirect(nxt)


def login_view(request):
    form = PasswordLoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        user = LockoutModelBackend().authenticate(request, username=username,
                                                  password=form.cleaned_data["password"])
        if user is not None and not user.is_staff_role:
            # Citizens and enterprises sign in with a second factor too: /eid/login/ (password + one-time
            # code) or the kiosk. Here their account answers like a wrong password, whether or not the
            # password was right, so this page is no oracle for their passwords.
            error = _("用户名或密码错误。办事群众和企业请通过实名（EID）登录")
        elif user is None:
            known = User.objects.filter(username=username).first()
            if known is not None and not known.is_staff_role:
                known = None  # not a staff account: not counted here (no lockout of citizens from this page)
            if known is not None and known.is_locked:
                error = _("账号已被锁定，请稍后再试或联系安全管理员")
            else:
                if known is not None:
                    known = services.register_login_failure(user=known, reason="password")
                error = _("用户名或密码错误。办事群众和企业请通过实名（EID）登录") if known is None or not known.is_locked else \
                    _("连续失败次数过多，账号已被锁定")
        elif user.is_staff_role:
            request.session.cycle_key()
            request.session[PENDING] = {"user_id": user.pk, "at": time.time(), "next": _next_url(request)}
            return redirect("accounts:otp" if user.totp_confirmed_at else "accounts:enrol")
    return render(request, "accounts/login.html", {"form": form, "error": error,
                                                   "next": request.GET.get("next", "")}, status=401 if error else 200)


def otp_view(request):
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:login")
    if user.totp_confirmed_at is None:
        return redirect("accounts:enrol")
    form = OneTimeCodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        if services.check_totp(user, form.cleaned_data["code"]):
            return _finish_login(request, user, second_factor=True)
        user = services.register_login_failure(user=user, reason="totp")
        if user.is_locked:
            request.session.pop(PENDING, None)
            return render(request, "accounts/login.html",
                          {"form": PasswordLoginForm(), "error": _("连续失败次数过多，账号已被锁定")}, status=401)
        error = _("动态口令不正确")
    return render(request, "accounts/otp.html", {"form": form, "error": error, "pending": user},
                  status=401 if error else 200)


def enrol_view(request):
    """First sign-in of a staff member: bind an authenticator app (TOTP), then finish signing in."""
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:login")
    if user.totp_confirmed_at is not None:
        return redirect("accounts:otp")
    if request.method != "POST" or not user.totp_secret:
        uri = services.begin_totp_enrolment(user=user) if not user.totp_secret else services.totp_uri(user)
    else:
        uri = services.totp_uri(user)
    form = OneTimeCodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        if services.confirm_totp_enrolment(user=user, code=form.cleaned_data["code"]):
            return _finish_login(request, user, second_factor=True)
        user = services.register_login_failure(user=user, reason="totp_enrol")
        error = _("动态口令不正确，请确认手机时间准确后重试")
    qr_svg = draw_qr_svg(uri, scale=5)
    return render(request, "accounts/enrol.html",
                  {"form": form, "error": error, "qr_svg": qr_svg, "secret": user.totp_secret, "pending": user},
                  status=401 if error else 200)


@require_POST
def logout_view(request):
    logout(request)
    return redirect("portal:home")


@login_required
def password_view(request):
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_password(user=request.user, old_password=form.cleaned_data["old_password"],
                                     new_password=form.cleaned_data["new_password"])
        except InvalidInput as exc:
            form.add_error(None, exc.message if not exc.detail else f"{exc.message}：{'；'.join(exc.detail)}")
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("密码已修改"))
            return redirect("portal:workbench")
    return render(request, "accounts/password.html", {"form": form}, status=422 if form.errors else 200)
