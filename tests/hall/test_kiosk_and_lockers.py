import datetime

import pytest

from smartgov.core.errors import Conflict, InvalidInput, NotFound
from smartgov.eid.models import OutboxMessage
from smartgov.hall import services
from smartgov.hall.models import LockerItem, LockerStatus
from smartgov.onestop import services as onestop

from .photos import portrait

M = datetime.timedelta(minutes=1)


def mrz_for(person, number="E12345678", expiry="340101") -> str:
    """A TD3 passport MRZ for ``person`` with correct check digits."""
    from smartgov.hall.mrz import check_digit

    dob = person.birth_date.strftime("%y%m%d")
    l1 = "P<CHNWANG<<XIAOMING".ljust(44, "<")
    l2 = (f"{number}{check_digit(number)}CHN{dob}{check_digit(dob)}M{expiry}{check_digit(expiry)}"
          + "<" * 14 + "<")
    return f"{l1}\n{l2}{check_digit(l2[0:10] + l2[13:20] + l2[21:43])}"


def approve(app, w):
    officer, chief = w["officers"][0], w["admin"]
    onestop.start_prereview(actor=officer, application=app)
    onestop.accept(actor=officer, application=app)
    app.refresh_from_db()
    while app.state in ("accepted", "review"):
        for actor in (officer, chief):
            try:
                onestop.review(actor=actor, application=app, outcome="approve", opinion="同意")
                break
            except Exception:  # noqa: S112 — the step belongs to the other one
                continue
        app.refresh_from_db()
    return app


def test_kiosk_files_the_passport_case_and_the_document_is_collected_from_a_locker(passport_world):
    w = passport_world
    hall, kiosk, person = w["hall"], w["officers"][0], w["citizen"].person
    t0 = w["morning"]
    ticket = services.issue_ticket(actor=kiosk, hall=hall, eid_payload=w["eid"], service=w["passport"], at=t0)
    assert ticket.source == "eid" and ticket.person_id == person.pk
    assert services.eid_sign_in(actor=kiosk, hall=hall, payload=w["eid"]).pk == person.pk
    with pytest.raises(InvalidInput) as exc:
        services.eid_sign_in(actor=kiosk, hall=hall, payload=w["eid"][:-3] + "AAA")
    assert exc.value.code.startswith("eid_")
    doc = services.read_document(actor=kiosk, hall=hall, person=person, text=mrz_for(person))
    assert doc["document_number"] == "E12345678"
    form = services.prefill(person, ticket, document=doc)
    assert form["applicant_name"] == person.name and form["name_pinyin"] == "WANG XIAOMING"
    form.update(travel_reason="旅游")
    answers = {"delivery": "pickup"}
    assert services.fee_for(ticket, answers) == "120.00"
    with pytest.raises(InvalidInput) as exc:  # a photo against the guide changes nothing
        services.file_application(actor=kiosk, ticket=ticket, person=person, form_data=form, answers=answers,
                                  photo=portrait(background=(90, 90, 90)), at=t0 + M)
    assert exc.value.code == "photo_rejected" and "background" in exc.value.detail
    ticket.refresh_from_db()
    assert ticket.application_id is None
    app = services.file_application(actor=kiosk, ticket=ticket, person=person, form_data=form, answers=answers,
                                    photo=portrait(), at=t0 + M)
    assert app.channel == "kiosk" and str(app.fee_total) == "120.00" and app.applicant_user_id == w["citizen"].pk
    with pytest.raises(Conflict):
        services.file_application(actor=kiosk, ticket=ticket, person=person, form_data=form, answers=answers,
                                  photo=portrait(), at=t0 + M)
    app = approve(app, w)
    assert app.state == "approved"
    item, code = services.store_in_locker(actor=w["officers"][0], application=app, at=t0 + 5 * M)
    app.refresh_from_db()
    assert app.state == "issued" and item.locker.code == "L001"
    assert code in OutboxMessage.objects.filter(person=person).latest("id").body
    with pytest.raises(Conflict):
        services.store_in_locker(actor=w["officers"][0], application=app, at=t0 + 5 * M)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(NotFound):
        services.collect_from_locker(actor=kiosk, hall=hall, code=wrong, eid_payload=w["eid"], at=t0 + 6 * M)
    with pytest.raises(NotFound):  # the right code, someone else's ID number
        services.collect_from_locker(actor=kiosk, hall=hall, code=code, id_number="11010519491231002X",
                                     at=t0 + 6 * M)
    got = services.collect_from_locker(actor=kiosk, hall=hall, code=code, eid_payload=w["eid"], at=t0 + 6 * M)
    assert got.status == LockerStatus.COLLECTED
    app.refresh_from_db()
    assert app.state == "delivered" and app.delivery_method == "pickup"


def test_biometric_one_to_one_through_the_biometrics_service(passport_world):
    import numpy as np

    from smartgov.biometrics.modalities import spec
    from smartgov.biometrics.services import enrol_template

    w = passport_world
    person = w["citizen"].person
    dim = spec("face").dim
    rng = np.random.default_rng(3)
    vector = rng.normal(size=dim)
    enrol_template(actor=w["officers"][0], person=person, modality="face", vector=vector.tolist(),
                   quality=90, dedupe=False)
    same = services.verify_biometric(actor=w["officers"][0], hall=w["hall"], person=person, modality="face",
                                     vector=(vector + rng.normal(scale=0.05, size=dim)).tolist())
    other = services.verify_biometric(actor=w["officers"][0], hall=w["hall"], person=person, modality="face",
                                      vector=rng.normal(size=dim).tolist())
    assert same["match"] and not other["match"]


def test_overdue_documents_go_back_to_the_counter(passport_world):
    w = passport_world
    t0 = w["morning"]
    ticket = services.issue_ticket(actor=w["officers"][0], hall=w["hall"], eid_payload=w["eid"],
                                   service=w["passport"], at=t0)
    form = services.prefill(w["citizen"].person, ticket) | {"name_pinyin": "WANG XIAOMING", "travel_reason": "旅游"}
    app = services.file_application(actor=w["officers"][0], ticket=ticket, person=w["citizen"].person,
                                    form_data=form, answers={"delivery": "pickup"}, photo=portrait(), at=t0)
    app = approve(app, w)
    item, _ = services.store_in_locker(actor=w["officers"][0], application=app, at=t0)
    assert services.return_overdue(actor=w["officers"][0], hall=w["hall"], at=t0 + datetime.timedelta(days=3)) == 0
    assert services.return_overdue(actor=w["officers"][0], hall=w["hall"], at=t0 + datetime.timedelta(days=8)) == 1
    assert LockerItem.objects.get(pk=item.pk).status == LockerStatus.RETURNED
