"""A small exit-entry hall made through the real services: the 出入境 department with its admin and two
window officers, a hall with passport (A) and HK/Macao permit (B) services, three windows, today's duty
roster, a citizen in the register with an account."""

import datetime

import pytest
from django.utils import timezone

from smartgov.core.permissions import Role, system_actor
from smartgov.core.workdays import calendar
from smartgov.hall import services
from smartgov.identity.services import link_account, register_person
from tests import factories as f

SETUP = system_actor("tests.hall")


def workday_at(hour: int, minute: int = 0, *, days_ahead: int = 3) -> datetime.datetime:
    """A moment on a working day ``days_ahead`` or more days from today, Beijing time."""
    day = calendar().next_workday(timezone.localdate() + datetime.timedelta(days=days_ahead))
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=timezone.get_current_timezone())


def citizen(name="王小明", birth="19880101"):
    user = f.user(Role.CITIZEN)
    person = register_person(actor=system_actor("test"), name=name, id_number=f.id_number(birth), phone="13800001111")
    link_account(person=person, user=user)
    user.refresh_from_db()
    return user


@pytest.fixture
def hall_world(db):
    dept = f.department("出入境管理局")
    w = {"dept": dept, "admin": f.user(Role.DEPT_ADMIN, department=dept),
         "officers": [f.user(Role.OFFICER, department=dept) for _ in range(3)], "citizen": citizen()}
    hall = services.create_hall(actor=SETUP, department=dept, code="CRJ-T", name="测试出入境大厅")
    w["hall"] = hall
    w["passport"] = services.add_service(actor=SETUP, hall=hall, code="A", name="普通护照", slot_capacity=2,
                                         mean_service_minutes=6)
    w["permit"] = services.add_service(actor=SETUP, hall=hall, code="B", name="往来港澳通行证",
                                       mean_service_minutes=4)
    w["windows"] = [services.add_window(actor=SETUP, hall=hall, number=1, services=[w["passport"]]),
                    services.add_window(actor=SETUP, hall=hall, number=2, services=[w["permit"]]),
                    services.add_window(actor=SETUP, hall=hall, number=3, services=[w["passport"], w["permit"]])]
    w["morning"] = workday_at(9, 0)
    for window, officer in zip(w["windows"], w["officers"], strict=True):
        services.assign_duty(actor=SETUP, window=window, officer=officer, day=w["morning"].date())
    return w


PASSPORT_CODE = "XK00301000"


def catalogue_item(code: str) -> dict:
    import json

    from smartgov.onestop.demo import DATA

    data = json.loads(DATA.read_text(encoding="utf-8"))
    return next(i for i in data["items"] if i["basic_code"] == code), data


@pytest.fixture
def passport_world(hall_world):
    """The hall's passport service files the catalogue's 普通护照签发 item; the citizen holds an EID."""
    from smartgov.eid.services import issue_eid, qr_payload
    from smartgov.licences.services import create_licence_type
    from smartgov.onestop import services as onestop
    from smartgov.workflow.services import ensure_standard_processes

    w = hall_world
    ensure_standard_processes()
    item, data = catalogue_item(PASSPORT_CODE)
    lt = next(t for t in data["licence_types"] if t["code"] == item["content"]["result"]["licence_type"])
    create_licence_type(actor=system_actor("test"), name=lt["name"], code=lt["code"], department=w["dept"],
                        holder_kind=lt["holder_kind"], validity_years=lt["validity_years"],
                        field_template=lt["field_template"])
    w["item"] = onestop.create_item(actor=system_actor("test"), department=w["dept"], basic_code=item["basic_code"], name=item["name"],
                                    item_type=item["item_type"], content=item["content"])
    w["passport"].item = w["item"]
    w["passport"].save()
    person = w["citizen"].person
    w["eid"] = qr_payload(issue_eid(actor=system_actor("test"), person=person, issuer=w["dept"]))
    services.add_lockers(actor=SETUP, hall=w["hall"], count=2)
    return w
