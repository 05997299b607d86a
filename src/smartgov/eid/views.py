"""Citizen pages: real-name registration, sign-in (ID number or EID + password + one-time code), my EID
(QR and PDF card), my VIDs, who verified me, my inbox and consents; and the EID check page."""

import time

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartgov.accounts import services as account_services
from smartgov.accounts.models import User
from smartgov.core.errors import DomainError
from smartgov.core.fields import blind_lookup
from smartgov.core.masking import mask_phone
from smartgov.core.pdf import qr_svg as draw_qr_svg
from smartgov.core.permissions import system_actor

from . import services
from .forms import CitizenLoginForm, CitizenRegisterForm, PayloadForm
from .models import Consent, CredentialStatus, EidCredential, KioskChallenge, Partner, VirtualId
from .pdf import eid_card_pdf
from .selectors import demo_code_for

PENDING = "sg_citizen_pending"
BACKEND = "smartgov.accounts.backends.LockoutModelBackend"


def register_view(request):
    form = CitizenRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            user, _person = services.register_citizen(name=d["name"], id_number=d["id_number"], phone=d["phone"],
                                                      password=d["password"])
        except DomainError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {}
            reasons = [m for messages_ in detail.values() for m in messages_]
            form.add_error(None, exc.message + ("：" + "；".join(reasons) if reasons else ""))
        else:
            login(request, user, backend=BACKEND)
            messages.success(request, _("注册成功。现在可以申领您的EID。"))
            return redirect("eid:mine")
    return render(request, "eid/register.html", {"form": form}, status=422 if form.errors else 200)


def _user_for(identifier: str) -> User | None:
    identifier = identifier.strip().upper()
    if identifier.startswith("E") and len(identifier) == 18:
        cred = EidCredential.objects.select_related("person__user").filter(
            eid=identifier, status=CredentialStatus.VALID).first()
        return cred.person.user if cred and cred.person.user else None
    try:
        return User.objects.filter(**blind_lookup(User, "id_number", identifier)).first()
    except ValidationError:  # a malformed number finds nobody, like a wrong one
        return None


def login_view(request):
    """Step 1: ID number or EID, and password. Step 2 (code_view): the one-time code sent to the phone."""
    form = CitizenLoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        user = _user_for(form.cleaned_data["identifier"])
        person = getattr(user, "person", None) if user else None
        if user is None or person is None or user.is_locked or not user.check_password(form.cleaned_data["password"]):
            if user is not None and not user.is_locked:
                account_services.register_login_failure(user=user, reason="password")
            error = _("账号或密码错误，或账号已被锁定")
        else:
            txn = services.send_one_time_code(person=person, purpose="login")
            request.session.cycle_key()
            request.session[PENDING] = {"user_id": user.pk, "txn": txn, "at": time.time(),
                                        "next": _safe_next(request)}
            return redirect("eid:login_code")
    return render(request, "eid/login.html", {"form": form, "error": error, "next": _safe_next(request)},
                  status=401 if error else 200)


def _safe_next(request) -> str:
    """Where to go after signing in (?next= from LOGIN_URL), only within this site."""
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    return nxt if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}) else ""


KIOSK = "sg_kiosk_challenge"


def kiosk_view(request):
    """Self-service kiosk: the citizen shows the EID QR to the scanner; the EID authority signs a
    challenge, which the citizen approves in 「我的EID」 on their own phone (or answers a one-time code).
    No ID number or password is typed at a public terminal."""
    form = PayloadForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        outcome = services.verify_eid_payload(form.cleaned_data["payload"])
        cred = EidCredential.objects.select_related("person__user").filter(
            eid=outcome.claims["eid"]).first() if outcome.ok else None
        user = cred.person.user if cred else None
        if user is None or user.is_locked:
            error = outcome.message if not outcome.ok else _("该EID未绑定可用的账号")
        elif request.POST.get("method") == "code":
            txn = services.send_one_time_code(person=cred.person, purpose="kiosk_login")
            request.session.cycle_key()
            request.session[PENDING] = {"user_id": user.pk, "txn": txn, "at": time.time()}
            return redirect("eid:login_code")
        else:
            challenge = services.create_kiosk_challenge(person=cred.person)
            request.session.cycle_key()
            request.session[KIOSK] = challenge.code
            return redirect("eid:kiosk_wait")
    return render(request, "eid/kiosk.html", {"form": form, "error": error}, status=401 if error else 200)


def kiosk_wait(request):
    """The kiosk shows the challenge code and asks the server (?check=1) until the citizen approved it."""
    code = request.session.get(KIOSK)
    if not code:
        return redirect("eid:kiosk")
    if request.GET.get("check"):
        user = services.consume_kiosk_challenge(code=code)
        if user is None:
            return JsonResponse({"approved": False})
        request.session.pop(KIOSK, None)
        login(request, user, backend=BACKEND)
        account_services.register_login_success(user=user, second_factor=True)
        return JsonResponse({"approved": True, "next": "/eid/"})
    return render(request, "eid/kiosk_wait.html", {"code": code})


@login_required
@require_POST
def kiosk_approve(request, code):
    person = services.person_for_user(request.user)
    services.approve_kiosk_challenge(person=person, code=code)
    messages.success(request, _("已确认自助终端登录"))
    return redirect("eid:mine")


def code_view(request):
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > 300:
        return redirect("eid:login")
    user = get_object_or_404(User, pk=pending["user_id"])
    error = ""
    if request.method == "POST":
        if services.check_one_time_code(person=user.person, transaction_id=pending["txn"],
                                        code=request.POST.get("code", "")):
            request.session.pop(PENDING, None)
            login(request, user, backend=BACKEND)
            account_services.register_login_success(user=user, second_factor=True)
            return redirect(pending.get("next") or "portal:mine")
        user = account_services.register_login_failure(user=user, reason="otp")
        error = _("验证码不正确或已过期")

    return render(request, "eid/code.html", {"error": error, "phone": mask_phone(user.person.phone or ""),
                                             "demo_code": demo_code_for(user.person, since=pending["at"])},
                  status=401 if error else 200)


@login_required
def mine(request):
    person = services.person_for_user(request.user)
    cred = EidCredential.objects.filter(person=person, status=CredentialStatus.VALID).first()
    qr_svg = payload = ""
    if cred:
        payload = services.qr_payload(cred)
        qr_svg = draw_qr_svg(payload, scale=3, dark="#111827")
    return render(request, "eid/mine.html", {
        "person": person, "cred": cred, "payload": payload, "qr_svg": qr_svg,
        "vids": VirtualId.objects.filter(person=person).order_by("-created_at")[:20],
        "verifications": person.verifications.select_related("partner")[:50],
        "consents": Consent.objects.filter(person=person, revoked_at=None).select_related("partner"),
        "partners": Partner.objects.filter(active=True).order_by("name"),
        "kiosk_requests": KioskChallenge.objects.filter(person=person, approved_at=None,
                                                        expires_at__gt=timezone.now()),
    })


@login_required
@require_POST
def apply(request):
    person = services.person_for_user(request.user)
    services.issue_eid(actor=system_actor("eid.apply"), person=person, issuer=services.issuer_department())
    messages.success(request, _("EID已签发"))
    return redirect("eid:mine")


@login_required
def card_pdf(request):
    person = services.person_for_user(request.user)
    cred = get_object_or_404(EidCredential, person=person, status=CredentialStatus.VALID)
    pdf = eid_card_pdf(name=person.name, eid=cred.eid, valid_from=cred.valid_from, valid_until=cred.valid_until,
                       issuer=cred.issuer.name, payload=services.qr_payload(cred))
    resp = HttpResponse(pdf, content_type="application/pdf")
    resp["Content-Disposition"] = f'attachment; filename="EID-{cred.eid}.pdf"'
    return resp


@login_required
@require_POST
def vid_create(request):
    person = services.person_for_user(request.user)
    services.create_vid(person=person, hours=int(request.POST.get("hours") or 24))
    return redirect("eid:mine")


@login_required
@require_POST
def vid_revoke(request, vid):
    person = services.person_for_user(request.user)
    services.revoke_vid(person=person, vid=get_object_or_404(VirtualId, vid=vid, person=person))
    return redirect("eid:mine")


@login_required
@require_POST
def consent_grant(request):
    person = services.person_for_user(request.user)
    partner = get_object_or_404(Partner, pk=request.POST.get("partner"), active=True)
    services.grant_consent(person=person, partner=partner, attributes=request.POST.getlist("attributes"))
    return redirect("eid:mine")


@login_required
@require_POST
def consent_revoke(request, pk):
    person = services.person_for_user(request.user)
    services.revoke_consent(person=person, consent=get_object_or_404(Consent, pk=pk, person=person))
    return redirect("eid:mine")


def check(request):
    """Anyone checks an EID: paste the QR content, or open the link a scanner produced (?p=...)."""
    form = PayloadForm(request.POST or ({"payload": request.GET["p"]} if "p" in request.GET else None))
    outcome = services.verify_eid_payload(form.cleaned_data["payload"]) if form.is_bound and form.is_valid() else None
    return render(request, "eid/check.html", {"form": form, "outcome": outcome})
