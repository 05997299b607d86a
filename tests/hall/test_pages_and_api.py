import datetime

from django.test import Client

from smartgov.hall import services
from tests import factories as f

from .conftest import workday_at


def citizen_client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_citizen_books_from_the_portal_and_sees_the_qr_code(hall_world):
    w = hall_world
    c = citizen_client(w["citizen"])
    day = workday_at(9).date()
    page = c.get(f"/hall/book/?hall={w['hall'].code}&service=A&day={day.isoformat()}")
    assert page.status_code == 200 and "09:00" in page.content.decode()
    slot = workday_at(11)
    resp = c.post("/hall/book/", {"service": w["passport"].pk, "starts_at": slot.isoformat()})
    assert resp.status_code == 302 and "/hall/appointments/" in resp["Location"]
    page = c.get(resp["Location"])
    assert "<svg" in page.content.decode()
    # someone else's appointment number answers like a missing one
    other = citizen_client(f.user("citizen"))
    assert other.get(resp["Location"]).status_code == 404


def test_window_console_and_kiosk_pages_need_the_halls_staff(hall_world):
    w = hall_world
    outsider = f.staff_client(f.user("officer"))
    assert outsider.get(f"/hall/{w['hall'].code}/kiosk/").status_code == 404
    officer = f.staff_client(w["officers"][0])
    assert officer.get(f"/hall/{w['hall'].code}/kiosk/").status_code == 200
    assert officer.get(f"/hall/{w['hall'].code}/windows/1/").status_code == 200
    assert officer.get(f"/hall/{w['hall'].code}/stats/?day={w['morning'].date().isoformat()}").status_code == 200


def test_api_tickets_calls_and_display(hall_world):
    w = hall_world
    officer = f.staff_client(w["officers"][0])
    resp = officer.post(f"/api/hall/halls/{w['hall'].code}/tickets", {"service": "B"}, content_type="application/json")
    assert resp.status_code == 201, resp.content
    assert resp.json()["number"] == "B001"
    display = Client().get(f"/api/hall/halls/{w['hall'].code}/display")
    assert {x["service"]: x["count"] for x in display.json()["waiting"]}["B"] == 1
    resp = officer.post("/api/hall/mrz", {"text": "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
                                                  "L898902C36UTO7408122F1204159ZE184226B<<<<<11"},
                        content_type="application/json")
    assert resp.status_code == 422 and "composite" in resp.json()["detail"]


def test_statistics_advise_staff_from_erlang(hall_world):
    from smartgov.hall import stats

    w = hall_world
    t0 = w["morning"]
    for i in range(30):
        services.issue_ticket(actor=w["officers"][0], hall=w["hall"], service=w["passport"],
                              at=t0 + datetime.timedelta(minutes=2 * i))
    report = stats.day_report(w["hall"], t0.date())
    nine = next(r for r in report["rows"] if r["hour"] == 9)
    assert nine["arrivals"] == 30 and nine["erlang_c"] >= 3 and nine["erlang_a"] <= nine["erlang_c"]
    assert nine["on_duty"] == 3
