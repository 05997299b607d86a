"""出入境智慧大厅 API: free slots, booking, tickets, calling, the display state, MRZ reading, staffing."""

import datetime

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Status

from smartgov.core.errors import NotFound
from smartgov.core.permissions import require

from . import mrz, selectors, services, stats
from .models import Hall, HallService, Window
from .schemas import AppointmentOut, BookIn, MrzIn, SlotOut, TicketIn, TicketOut

router = Router(tags=["出入境智慧大厅 hall"])


def _hall(code: str) -> Hall:
    hall = Hall.objects.select_related("department").filter(code=code).first()
    if hall is None:
        raise NotFound()
    return hall


def _ticket_out(ticket) -> dict:
    state = selectors.ticket_state(ticket)
    return {"number": ticket.number, "token": ticket.token, "status": ticket.status, "priority": ticket.priority,
            "source": ticket.source, "position": state["position"], "eta_minutes": state["eta_minutes"]}


@router.get("/halls/{code}/slots", response=list[SlotOut], summary="可预约时段")
def slots(request, code: str, service: str, day: datetime.date):
    svc = get_object_or_404(HallService, hall=_hall(code), code=service)
    return selectors.free_slots(svc, day)


@router.post("/appointments", response={201: AppointmentOut}, summary="预约（实名认证的个人）")
def book(request, payload: BookIn):
    svc = get_object_or_404(HallService.objects.select_related("hall"), pk=payload.service_id)
    appt = services.book_appointment(actor=request.user, service=svc, starts_at=payload.starts_at)
    return Status(201, {"number": appt.number, "token": appt.token, "status": appt.status, "service": svc.code,
                 "starts_at": appt.slot.starts_at})


@router.post("/halls/{code}/tickets", response={201: TicketOut}, summary="取号（自助终端）")
def take_ticket(request, code: str, payload: TicketIn):
    hall = _hall(code)
    svc = HallService.objects.filter(hall=hall, code=payload.service).first() if payload.service else None
    ticket = services.issue_ticket(actor=request.user, hall=hall, service=svc, appointment_token=payload.appointment,
                                   eid_payload=payload.eid, green=payload.green)
    return Status(201, _ticket_out(ticket))


@router.post("/halls/{code}/windows/{number}/call-next", response={200: TicketOut, 204: None}, summary="叫下一位")
def call_next(request, code: str, number: int):
    hall = _hall(code)
    require(request.user, "hall.call", department=hall.department, hide=True)
    window = get_object_or_404(Window, hall=hall, number=number)
    ticket = services.call_next(actor=request.user, window=window)
    return Status(204, None) if ticket is None else Status(200, _ticket_out(ticket))


@router.get("/halls/{code}/display", auth=None, summary="大厅显示屏内容（公开）")
def display(request, code: str):
    return selectors.display_state(_hall(code))


@router.post("/mrz", summary="读取证件机读区（ICAO 9303）")
def read_mrz(request, payload: MrzIn):
    require(request.user, "hall.kiosk")
    return mrz.parse(payload.text).as_dict()


@router.get("/halls/{code}/staffing", summary="统计与排班建议（Erlang C / Erlang A）")
def staffing(request, code: str, day: datetime.date | None = None):
    hall = _hall(code)
    require(request.user, "hall.view", department=hall.department, hide=True)
    return stats.day_report(hall, day or timezone.localdate())
