"""Pages of the exit-entry hall: booking (citizens), the kiosk, the window console, the day's bookings,
the live display and personal ticket page (SSE), statistics. Views validate and call one service;
failures become a message (``DomainError``)."""

import datetime
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartgov.core.errors import Conflict, DomainError, NotFound
from smartgov.core.pdf import qr_svg
from smartgov.core.permissions import has_perm, require, system_actor
from smartgov.identity.models import Person
from smartgov.onestop.selectors import current_version

from . import live, selectors, services, stats
from .models import Appointment, AppointmentStatus, Hall, HallService, Ticket, TicketStatus, Window
from .pdf import receipt_pdf

KIOSK = "hall_kiosk"  # session key: the citizen signed in at this kiosk and their ticket


def _hall(request, code: str, perm: str) -> Hall:
    hall = Hall.objects.select_related("department").filter(code=code).first()
    if hall is None:
        raise Http404
    try:
        require(request.user, perm, department=hall.department, hide=True)
    except NotFound:
        raise Http404 from None
    return hall


def _day(request) -> datetime.date:
    try:
        return datetime.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return timezone.localdate()


def _live_url(path: str) -> str:
    return settings.HALL_LIVE_URL.rstrip("/") + path


def _allow_live_origin(response):
    """The Content-Security-Policy lets a page connect only to its own origin: a live page whose stream
    comes from the live server's own origin (HALL_LIVE_URL) names that origin too (Django's CSP
    middleware reads a per-response policy from ``_csp_config``, as its csp_override decorator sets)."""
    if settings.HALL_LIVE_URL:
        live = urlsplit(settings.HALL_LIVE_URL)
        policy = dict(settings.SECURE_CSP)
        policy["connect-src"] = [*policy.get("connect-src", []), f"{live.scheme}://{live.netloc}"]
        response._csp_config = policy
    return response


# --------------------------------------------------------------------------- citizens: booking


@login_required
def book(request):
    """预约: hall → service → day → a free slot. Citizens signed in (with their EID) only."""
    can_book = has_perm(request.user, "hall.book") and getattr(request.user, "person", None) is not None
    halls = list(Hall.objects.order_by("code"))
    hall = next((h for h in halls if h.code == request.GET.get("hall")), halls[0] if halls else None)
    services_ = list(HallService.objects.filter(hall=hall).order_by("code")) if hall else []
    service = next((s for s in services_ if s.code == request.GET.get("service")), services_[0] if services_ else None)
    today = timezone.localdate()
    days = [today + datetime.timedelta(days=i) for i in range((hall.horizon_days if hall else 0) + 1)]
    days = [d for d in days if hall and selectors.opening_periods(hall, d)]
    day = _day(request) if request.GET.get("day") else (days[0] if days else today)
    slots = selectors.free_slots(service, day) if service else []
    if request.method == "POST":
        if not can_book:
            messages.error(request, _("请先以实名认证的个人账号登录"))
            return redirect("hall:book")
        service = get_object_or_404(HallService, pk=request.POST.get("service"))
        try:
            starts = datetime.datetime.fromisoformat(request.POST.get("starts_at", ""))
            appt = services.book_appointment(actor=request.user, service=service, starts_at=starts)
        except ValueError:
            messages.error(request, _("时段无效"))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("预约成功"))
            return redirect("hall:appointment", number=appt.number)
        return redirect(f"{reverse('hall:book')}?hall={service.hall.code}&service={service.code}")
    return render(request, "hall/book.html", {
        "halls": halls, "hall": hall, "services": services_, "service": service, "days": days, "day": day,
        "slots": slots, "can_book": can_book,
        "mine": list(selectors.appointments_of(request.user)[:20]) if can_book else []})


@login_required
def appointment(request, number: str):
    appt = Appointment.objects.select_related("hall", "service", "slot").filter(number=number,
                                                                             user=request.user).first()
    if appt is None:
        raise Http404
    if request.method == "POST":
        try:
            services.cancel_appointment(actor=request.user, appointment=appt)
            messages.success(request, _("预约已取消"))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("hall:appointment", number=number)
    # the SVG core.pdf draws from our own token: markup we made, not user text
    qr = mark_safe(qr_svg(appt.token, scale=5)) if appt.status == AppointmentStatus.BOOKED else ""  # noqa: S308
    return render(request, "hall/appointment.html", {"appt": appt, "qr_svg": qr})


# --------------------------------------------------------------------------- staff


@login_required
def index(request):
    halls = list(selectors.halls_for(request.user)) if has_perm(request.user, "hall.view") else []
    return render(request, "hall/index.html", {"halls": halls, "today": timezone.localdate()})


@login_required
def bookings(request, code: str):
    hall = _hall(request, code, "hall.view")
    day = _day(request)
    return render(request, "hall/bookings.html", {"hall": hall, "day": day,
                                                  "rows": list(selectors.day_bookings(hall, day))})


@login_required
def window_console(request, code: str, number: int):
    """窗口: the current ticket, the queue this window calls from, call/recall/skip/transfer/finish."""
    hall = _hall(request, code, "hall.call")
    window = get_object_or_404(Window, hall=hall, number=number)
    if request.method == "POST":
        action = request.POST.get("action")
        ticket = Ticket.objects.filter(pk=request.POST.get("ticket"), hall=hall).first()
        try:
            if action == "call":
                called = services.call_next(actor=request.user, window=window)
                if called is None:
                    messages.info(request, _("暂无等候人员"))
            elif ticket is None:
                raise NotFound()
            elif action == "recall":
                services.recall(actor=request.user, ticket=ticket)
            elif action == "skip":
                services.skip(actor=request.user, ticket=ticket)
            elif action == "finish":
                services.finish_ticket(actor=request.user, ticket=ticket)
            elif action == "transfer":
                to = get_object_or_404(Window, hall=hall, number=request.POST.get("to"))
                services.transfer(actor=request.user, ticket=ticket, to_window=to)
            elif action == "locker":
                if ticket.application is None:
                    raise NotFound()
                item, _code = services.store_in_locker(actor=request.user, application=ticket.application)
                messages.success(request, _("已出证并放入取证柜 %(locker)s，取件码已发送给申请人") %
                                 {"locker": item.locker.code})
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("hall:window", code=code, number=number)
    day = timezone.localdate()
    current = (Ticket.objects.filter(window=window, status=TicketStatus.CALLED)
               .select_related("service", "application").first())
    return render(request, "hall/window.html", {
        "hall": hall, "window": window, "current": current, "queue": list(selectors.window_queue(window, day)[:30]),
        "others": Window.objects.filter(hall=hall, active=True).exclude(pk=window.pk),
        "duty": selectors.duty_today(hall, day).get(window.pk)})


# --------------------------------------------------------------------------- the kiosk


def _kiosk_state(request, hall):
    state = request.session.get(KIOSK) or {}
    if state.get("hall") != hall.pk:
        state = {"hall": hall.pk}
    return state


@login_required
def kiosk(request, code: str):
    """自助终端: take a ticket, sign in with the EID QR code, read the document, check the photo, pay the fee,
    file the application; collect a document from the locker."""
    hall = _hall(request, code, "hall.kiosk")
    state = _kiosk_state(request, hall)
    person = Person.objects.filter(pk=state.get("person")).first() if state.get("person") else None
    ticket = Ticket.objects.select_related("service__item", "application").filter(
        pk=state.get("ticket"), hall=hall).first() if state.get("ticket") else None
    if request.method == "POST":
        step = request.POST.get("step")
        try:
            if step == "ticket":
                service = HallService.objects.filter(hall=hall, pk=request.POST.get("service") or 0).first()
                ticket = services.issue_ticket(
                    actor=request.user, hall=hall, service=service,
                    appointment_token=request.POST.get("appointment", "").strip(),
                    eid_payload=request.POST.get("eid", "").strip(), green=bool(request.POST.get("green")))
                # personal data on screen only after the EID was read here (an appointment QR code is no ID)
                state = {"hall": hall.pk, "ticket": ticket.pk,
                         "person": ticket.person_id if ticket.source == "eid" else None}
                messages.success(request, _("取号成功：%(number)s") % {"number": ticket.number})
            elif step == "sign_in":
                person = services.eid_sign_in(actor=request.user, hall=hall, payload=request.POST.get("eid", ""))
                if ticket and ticket.person_id and ticket.person_id != person.pk:
                    raise Conflict("EID持有人与该号的预约人不一致", code="not_ticket_holder")
                state["person"] = person.pk
            elif step == "document" and person:
                state["document"] = services.read_document(actor=request.user, hall=hall, person=person,
                                                           text=request.POST.get("mrz", ""))
            elif step == "apply" and person and ticket:
                upload = request.FILES.get("photo")
                form = services.prefill(person, ticket, document=state.get("document"))
                form.update({k[5:]: v for k, v in request.POST.items() if k.startswith("form_")})
                answers = {k[7:]: v for k, v in request.POST.items() if k.startswith("answer_")}
                app = services.file_application(actor=request.user, ticket=ticket, person=person, form_data=form,
                                                answers=answers, photo=upload.read() if upload else b"")
                messages.success(request, _("申请已提交：%(number)s，应缴费 %(fee)s 元") %
                                 {"number": app.number, "fee": app.fee_total})
            elif step == "pickup":
                item = services.collect_from_locker(actor=request.user, hall=hall, code=request.POST.get("code", ""),
                                                    eid_payload=request.POST.get("eid", "").strip(),
                                                    id_number=request.POST.get("id_number", "").strip())
                messages.success(request, _("柜门 %(locker)s 已打开，请取走证件") % {"locker": item.locker.code})
            elif step == "done":
                state = {"hall": hall.pk}
        except DomainError as exc:
            messages.error(request, exc.message)
            if exc.detail and isinstance(exc.detail, dict):
                for field, text in exc.detail.items():
                    messages.error(request, f"{field}: {text}")
        request.session[KIOSK] = state
        return redirect("hall:kiosk", code=code)
    form = services.prefill(person, ticket, document=state.get("document")) if person and ticket else {}
    content = None
    if ticket and ticket.service.item:
        content = current_version(ticket.service.item).parsed
    answers = {s.key: s.options[0].value for s in content.situations} if content else {}
    return render(request, "hall/kiosk.html", {
        "hall": hall, "person": person, "ticket": ticket, "document": state.get("document"),
        "services": HallService.objects.filter(hall=hall).order_by("code"),
        "fields": [(f, form.get(f.key, "")) for f in content.fields_for(answers)] if content else [],
        "situations": content.situations if content else [], "fee": services.fee_for(ticket, answers) if ticket else None})


def receipt(request, token: str):
    """受理回执 (PDF with the case number and a QR code to the personal ticket page)."""
    ticket = selectors.ticket_by_token(token)
    if ticket is None or ticket.application_id is None:
        raise Http404
    response = HttpResponse(receipt_pdf(ticket, request.build_absolute_uri(reverse("hall:ticket", args=[token]))),
                            content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{ticket.application.number}.pdf"'
    return response


# --------------------------------------------------------------------------- live pages


def display(request, code: str):
    """The hall display (public, like the screen on the wall)."""
    hall = get_object_or_404(Hall, code=code)
    return _allow_live_origin(render(request, "hall/display.html", {
        "hall": hall, "state": selectors.display_state(hall),
        "live_url": _live_url(reverse("hall:live_display", args=[code]))}))


def ticket_page(request, token: str):
    """The citizen's own ticket (the link printed on the ticket as a QR code; the token is the key)."""
    ticket = selectors.ticket_by_token(token)
    if ticket is None:
        raise Http404
    return _allow_live_origin(render(request, "hall/ticket.html", {
        "ticket": ticket, "state": selectors.ticket_state(ticket),
        "live_url": _live_url(reverse("hall:live_ticket", args=[token])),
        "qr_svg": mark_safe(qr_svg(request.build_absolute_uri()))}))  # noqa: S308 (the SVG core.pdf draws)


def _sse_response(stream) -> StreamingHttpResponse:
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    response["Access-Control-Allow-Origin"] = "*"  # public data; the live server may sit on its own origin
    return response


# The look-ups run on the hub's shared threads (thread_sensitive=False), not in a thread of their own per
# request: an open stream must not hold a database connection for its whole life (500 pages, 500
# connections — more than PostgreSQL allows by default).
async def live_display(request, code: str):
    hall_id = await sync_to_async(live.hall_id_for, thread_sensitive=False)(code)
    if hall_id is None:
        raise Http404
    return _sse_response(live.stream(hall_id))


async def live_ticket(request, token: str):
    ids = await sync_to_async(live.ticket_ids_for, thread_sensitive=False)(token)
    if ids is None:
        raise Http404
    return _sse_response(live.stream(*ids))


# --------------------------------------------------------------------------- statistics


@login_required
def statistics(request, code: str):
    hall = _hall(request, code, "hall.view")
    day = _day(request)
    report = stats.day_report(hall, day)
    return render(request, "hall/stats.html", {"hall": hall, "day": day, "report": report})


@require_POST
def rate(request, token: str):
    ticket = selectors.ticket_by_token(token)
    if ticket is None:
        raise Http404
    try:  # the ticket's token is the visitor's key to their own visit
        services.rate_visit(actor=system_actor("hall.ticket_page"), ticket=ticket, grade=int(request.POST.get("grade", 0)))
        messages.success(request, _("感谢您的评价"))
    except (DomainError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", _("评价无效")))
    return redirect("hall:ticket", token=token)
