import datetime
import json

import pytest

from smartgov.audit.models import AuditEntry
from smartgov.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from smartgov.core.permissions import Role, system_actor
from smartgov.identity import selectors, services
from smartgov.identity.models import Enterprise, EnterpriseStatus, Person
from tests import factories as f

from .helpers import person

pytestmark = pytest.mark.django_db


def test_register_person_derives_sex_and_birth_date_and_audits_masked():
    dept = f.department()
    officer = f.user(Role.OFFICER, department=dept)
    idn = f.id_number("19880214", seq=123)
    p = services.register_person(actor=officer, name="王五", id_number=idn.lower(), phone="+86 138-1234-5678")
    assert (p.sex, p.birth_date, p.department) == ("M", datetime.date(1988, 2, 14), dept)
    assert Person.objects.get(pk=p.pk).phone == "13812345678"
    entry = AuditEntry.objects.filter(action="identity.person.register").get()
    assert idn not in str(entry.changes) and "13812345678" not in str(entry.changes)


def test_disagreeing_sex_is_refused_and_nothing_is_written():
    with pytest.raises(InvalidInput) as exc:
        services.register_person(actor=system_actor("test"), name="王五", id_number=f.id_number("19880214", seq=123), sex="F",
                                 department=f.department())
    assert "sex" in exc.value.detail
    assert not Person.objects.exists()


def test_duplicate_id_number_is_a_conflict_with_a_stable_code():
    dept = f.department()
    p = person(dept, seq=5)
    with pytest.raises(Conflict) as exc:
        services.register_person(actor=system_actor("test"), name="另一人", id_number=p.id_number, department=f.department())
    assert exc.value.code == "person_exists" and exc.value.status == 409


def test_officer_cannot_register_into_another_department():
    officer = f.user(Role.OFFICER)
    with pytest.raises(Forbidden):
        services.register_person(actor=officer, name="王五", id_number=f.id_number(), department=f.department())


def test_supervisor_sees_subtree_officer_only_own_department():
    city = f.department()
    county = f.department(parent=city)
    in_county = person(county, seq=1)
    supervisor, officer = f.user(Role.SUPERVISOR, department=city), f.user(Role.OFFICER, department=city)
    assert list(selectors.persons_for(supervisor)) == [in_county]
    assert list(selectors.persons_for(officer)) == []
    with pytest.raises(NotFound):
        selectors.get_person_for(officer, in_county.pk)
    with pytest.raises(Forbidden):  # supervisors read, they do not register
        services.register_person(actor=supervisor, name="王五", id_number=f.id_number(), department=county)


def test_lookup_by_id_number_is_audited_found_or_not():
    dept = f.department()
    officer = f.user(Role.OFFICER, department=dept)
    p = person(dept, seq=7)
    assert services.find_person_by_id_number(actor=officer, id_number=p.id_number.lower()) == p
    other = f.user(Role.OFFICER)
    with pytest.raises(NotFound):
        services.find_person_by_id_number(actor=other, id_number=p.id_number)
    lookups = AuditEntry.objects.filter(action="identity.person.lookup").order_by("seq")
    assert [json.loads(e.changes)["found"] for e in lookups] == [True, False]
    assert all(p.id_number not in str(e.changes) for e in lookups)


def test_reveal_needs_permission_and_is_audited():
    dept = f.department()
    p = person(dept, seq=8, phone="13912345678")
    officer = f.user(Role.OFFICER, department=dept)
    assert services.reveal_person(actor=officer, person=p) == {"id_number": p.id_number, "phone": "13912345678"}
    assert AuditEntry.objects.filter(action="identity.person.reveal", target_id=str(p.pk)).count() == 1
    with pytest.raises(Forbidden):
        services.reveal_person(actor=f.user(Role.SUPERVISOR, department=dept), person=p)


def test_update_person_masks_phone_in_the_trail_and_keeps_the_id_number():
    dept = f.department()
    p = person(dept, seq=9, phone="13912345678")
    officer = f.user(Role.OFFICER, department=dept)
    services.update_person(actor=officer, person=p, changes={"phone": "13700001111", "address": "新地址"})
    entry = AuditEntry.objects.filter(action="identity.person.update").get()
    assert json.loads(entry.changes)["phone"] == ["139****5678", "137****1111"]
    with pytest.raises(InvalidInput):
        services.update_person(actor=officer, person=p, changes={"id_number": f.id_number()})


def test_enterprise_with_legal_representative_and_status_changes():
    dept = f.department()
    officer = f.user(Role.OFFICER, department=dept)
    rep = person(dept, seq=10)
    code = f.uscc()
    e = services.register_enterprise(actor=officer, name="示范科技有限公司", uscc=code.lower(),
                                     legal_representative_id_number=rep.id_number)
    assert e.uscc == code and e.legal_representative == rep
    with pytest.raises(Conflict) as exc:
        services.register_enterprise(actor=officer, name="重复", uscc=code)
    assert exc.value.code == "enterprise_exists"
    with pytest.raises(InvalidInput) as exc:
        services.register_enterprise(actor=officer, name="无人", uscc=f.uscc(), legal_representative_id_number=f.id_number())
    assert exc.value.code == "legal_representative_not_registered"
    services.update_enterprise(actor=officer, enterprise=e, changes={"status": EnterpriseStatus.REVOKED})
    services.update_enterprise(actor=officer, enterprise=e, changes={"status": EnterpriseStatus.CANCELLED})
    with pytest.raises(InvalidInput) as exc:
        services.update_enterprise(actor=officer, enterprise=e, changes={"status": EnterpriseStatus.ACTIVE})
    assert exc.value.code == "invalid_status_change"
    assert Enterprise.objects.get(pk=e.pk).status == EnterpriseStatus.CANCELLED
    assert AuditEntry.objects.filter(action="identity.enterprise.status").count() == 2


def test_legal_representative_outside_the_officers_scope_is_answered_like_an_unregistered_one():
    from smartgov.identity.services import register_person

    mine, theirs = f.department("甲区"), f.department("乙区")
    officer = f.user(Role.OFFICER, department=mine)
    stranger = register_person(actor=system_actor("test"), name="外区居民", id_number=f.id_number(), department=theirs)
    errors = []
    for idn in (stranger.id_number, f.id_number()):
        with pytest.raises(InvalidInput) as exc:
            services.register_enterprise(actor=officer, name="探测公司", uscc=f.uscc(),
                                         legal_representative_id_number=idn, department=mine)
        errors.append((exc.value.code, exc.value.message))
    assert errors[0] == errors[1] == ("legal_representative_not_registered", errors[0][1])
