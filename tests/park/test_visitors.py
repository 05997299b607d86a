"""Visitors (访客): pre-registration for a host enterprise, a signed QR pass valid for a window, the gate's
check-in and check-out, the visitor log with personal data encrypted at rest and masked in pages and API."""

from datetime import timedelta

import orjson
import pytest
from django.core import signing
from django.db import connection
from django.utils import timezone

from smartgov.core.errors import Conflict, InvalidInput, NotFound
from smartgov.core.fields import blind_lookup
from smartgov.core.permissions import Role
from smartgov.park import passes, selectors, services
from smartgov.park.models import Visit, VisitStatus
from tests import factories
from tests.park import factories as pf

pytestmark = pytest.mark.django_db
PHONE = "13812345678"


def _visit(p=None, *, ent=None, start=-1, hours=3, id_number=None):
    p = p or pf.park()
    ent = ent or pf.enterprise(p)
    now = timezone.now()
    return services.register_visit(actor=pf.SYS, enterprise=ent, name="张三丰", phone=PHONE,
                                   id_number=id_number if id_number is not None else factories.id_number(),
                                   purpose="商务洽谈", valid_from=now + timedelta(hours=start),
                                   valid_until=now + timedelta(hours=start + hours))


def test_a_pass_checks_in_once_within_its_window_and_then_out():
    v = _visit()
    token = passes.pass_token(v.pk)
    guard = pf.officer(v.park)
    v = services.check_in(actor=guard, token=token, gate="东门1号")
    assert v.status == VisitStatus.CHECKED_IN and v.gate_in == "东门1号" and v.checked_in_at is not None
    with pytest.raises(Conflict) as twice:
        services.check_in(actor=guard, token=token)
    assert twice.value.code == "pass_used"
    v = services.check_out(actor=guard, token=token, gate="西门")
    assert v.status == VisitStatus.CHECKED_OUT and v.gate_out == "西门"
    with pytest.raises(Conflict) as again:
        services.check_out(actor=guard, token=token)
    assert again.value.code == "pass_not_checked_in"
    with pytest.raises(Conflict):  # used up: no way back in
        services.check_in(actor=guard, token=token)


def test_check_in_is_refused_outside_the_window_to_the_second():
    v = _visit(start=1, hours=2)  # from an hour from now
    token = passes.pass_token(v.pk)
    with pytest.raises(Conflict) as early:
        services.check_in(actor=pf.SYS, token=token)
    assert early.value.code == "pass_outside_window"
    with pytest.raises(Conflict):
        services.check_in(actor=pf.SYS, token=token, now=v.valid_until + timedelta(seconds=1))
    with pytest.raises(Conflict):
        services.check_in(actor=pf.SYS, token=token, now=v.valid_from - timedelta(seconds=1))
    assert services.check_in(actor=pf.SYS, token=token, now=v.valid_until).status == VisitStatus.CHECKED_IN


def test_check_out_needs_a_check_in_and_may_come_after_the_window():
    v = _visit()
    token = passes.pass_token(v.pk)
    with pytest.raises(Conflict):
        services.check_out(actor=pf.SYS, token=token)
    services.check_in(actor=pf.SYS, token=token)
    late = services.check_out(actor=pf.SYS, token=token, now=v.valid_until + timedelta(hours=2))
    assert late.status == VisitStatus.CHECKED_OUT


def test_a_forged_or_altered_pass_is_refused():
    v = _visit()
    token = passes.pass_token(v.pk)
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"),  # one character of the signature
                signing.dumps({"visit": v.pk}, salt="another.salt"),  # signed for something else
                signing.dumps({"visit": v.pk}, salt=passes.SALT, key="not-the-secret-key"),
                str(v.pk), "", "garbage:garbage"):
        with pytest.raises(NotFound) as exc:
            services.check_in(actor=pf.SYS, token=bad)
        assert exc.value.code == "pass_invalid"
    assert Visit.objects.get(pk=v.pk).status == VisitStatus.REGISTERED


def test_a_pass_of_another_park_answers_like_a_forged_one():
    v = _visit()
    stranger = pf.officer(pf.park())
    with pytest.raises(NotFound) as exc:
        services.check_in(actor=stranger, token=passes.pass_token(v.pk))
    assert exc.value.code == "pass_invalid"
    with pytest.raises(NotFound):
        selectors.get_visit_for(stranger, v.pk)


def test_a_cancelled_pass_is_refused_and_only_an_unused_pass_cancels():
    v = _visit()
    services.cancel_visit(actor=pf.SYS, visit=v)
    with pytest.raises(Conflict) as exc:
        services.check_in(actor=pf.SYS, token=passes.pass_token(v.pk))
    assert exc.value.code == "pass_cancelled"
    with pytest.raises(Conflict):
        services.cancel_visit(actor=pf.SYS, visit=v)


@pytest.mark.parametrize(("field", "value", "code"), [
    ("phone", "1234", "invalid_mobile"),
    ("id_number", "110105194912310022", "invalid_id_number"),  # wrong check digit
    ("name", "  ", "invalid_visitor_name"),
    ("window", (2, 1), "invalid_window"),
    ("window", (0, 24 * 8), "invalid_window"),
    ("window", (-5, -1), "invalid_window"),
])
def test_registration_is_validated(field, value, code):
    p = pf.park()
    ent = pf.enterprise(p)
    now = timezone.now()
    args = {"name": "李四", "phone": PHONE, "id_number": "", "valid_from": now, "valid_until": now + timedelta(hours=1)}
    if field == "window":
        args["valid_from"], args["valid_until"] = now + timedelta(hours=value[0]), now + timedelta(hours=value[1])
    else:
        args[field] = value
    with pytest.raises(InvalidInput) as exc:
        services.register_visit(actor=pf.SYS, enterprise=ent, **args)
    assert exc.value.code == code
    assert not Visit.objects.exists()


def test_personal_data_is_encrypted_at_rest_and_found_by_blind_index():
    idn = factories.id_number()
    v = _visit(id_number=idn)
    with connection.cursor() as cur:
        cur.execute(f"SELECT phone, id_number FROM {Visit._meta.db_table} WHERE id = %s", [v.pk])  # noqa: S608
        phone_raw, id_raw = cur.fetchone()
    assert PHONE not in phone_raw and idn not in id_raw and phone_raw.startswith("v")
    assert Visit.objects.get(**blind_lookup(Visit, "phone", PHONE)).pk == v.pk
    assert Visit.objects.get(pk=v.pk).id_number == idn


def test_officer_registers_and_the_gate_checks_in_through_the_api_with_masked_data(django_assert_max_num_queries):
    p = pf.park()
    ent = pf.enterprise(p)
    client = factories.staff_client(pf.officer(p))
    now = timezone.now()
    idn = factories.id_number()
    made = client.post(f"/api/park/parks/{p.pk}/visits", orjson.dumps({
        "enterprise": ent.pk, "name": "王小明", "phone": PHONE, "id_number": idn, "purpose": "面试",
        "valid_from": (now - timedelta(minutes=5)).isoformat(), "valid_until": (now + timedelta(hours=2)).isoformat()}),
        content_type="application/json")
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["name"] == "王**" and body["phone"] == "138****5678" and body["id_number"] == idn[:6] + "*" * 8 + idn[-4:]
    assert passes.visit_id_of(body["token"]) == body["id"]
    gate = client.post("/api/park/visits/check-in", orjson.dumps({"token": body["token"], "gate": "南门"}),
                       content_type="application/json")
    assert gate.status_code == 200 and gate.json()["status"] == "checked_in"
    twice = client.post("/api/park/visits/check-in", orjson.dumps({"token": body["token"]}),
                        content_type="application/json")
    assert twice.status_code == 409 and twice.json()["code"] == "pass_used"
    forged = client.post("/api/park/visits/check-in", orjson.dumps({"token": body["token"] + "x"}),
                         content_type="application/json")
    assert forged.status_code == 404 and forged.json()["code"] == "pass_invalid"
    for _ in range(5):
        _visit(p, ent=ent)
    with django_assert_max_num_queries(8):
        log = client.get(f"/api/park/parks/{p.pk}/visits")
    assert log.status_code == 200 and log.json()["count"] == 6
    assert PHONE not in log.content.decode() and idn not in log.content.decode()
    today = client.get(f"/api/park/parks/{p.pk}/visitors-today").json()
    assert today == {"expected": 6, "arrived": 1, "on_site": 1}


def test_the_visitor_page_registers_shows_the_pass_and_the_gate_answers_in_place():
    p = pf.park()
    ent = pf.enterprise(p)
    client = factories.staff_client(pf.officer(p))
    now = timezone.localtime()
    resp = client.post(f"/park/{p.pk}/visitors/register/", {
        "enterprise": str(ent.pk), "name": "赵六", "phone": PHONE, "id_number": "",
        "valid_from": (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
        "valid_until": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")})
    assert resp.status_code == 302
    v = Visit.objects.get()
    assert v.valid_from.tzinfo is not None and v.registered_by is not None
    page = client.get(resp.url).content.decode()
    assert "<svg" in page and passes.pass_token(v.pk) in page and "138****5678" in page and PHONE not in page
    refused = client.post(f"/park/{p.pk}/visitors/gate/", {"token": "forged", "direction": "in"}, HTTP_HX_REQUEST="true")
    assert 'data-testid="gate-refused"' in refused.content.decode() and "HX-Trigger" not in refused
    ok = client.post(f"/park/{p.pk}/visitors/gate/", {"token": passes.pass_token(v.pk), "direction": "in", "gate": "东门"},
                     HTTP_HX_REQUEST="true")
    assert 'data-testid="gate-ok"' in ok.content.decode() and ok["HX-Trigger"] == "visits-changed"
    log = client.get(f"/park/{p.pk}/visitors/").content.decode()
    assert "赵*" in log and "东门" in log and "已入园" in log and PHONE not in log
    dash = client.get(f"/park/{p.pk}/").content.decode()
    assert 'data-testid="visitors-today">1<' in dash


def test_a_supervisor_sees_the_park_but_not_its_visitors():
    p = pf.park()
    v = _visit(p)
    client = factories.staff_client(factories.user(Role.SUPERVISOR, department=p.department))
    assert client.get(f"/park/{p.pk}/").status_code == 200
    assert client.get(f"/park/visits/{v.pk}/").status_code == 403
    assert client.get(f"/api/park/parks/{p.pk}/visits").status_code == 403
