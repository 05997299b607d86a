"""A one-stop item whose 无犯罪记录证明 and 社保缴费证明 come through the exchange (shared by the reuse
tests and the browser test)."""

import datetime

from django.utils import timezone

from smartgov.core.permissions import Role, system_actor
from smartgov.exchange import services as exchange
from smartgov.identity.services import link_account, register_person
from smartgov.onestop import services as onestop
from tests import factories as f
from tests.exchange import factories as xf

ITEMS = [{"key": "name", "name": "姓名", "personal": True},
         {"key": "id_number", "name": "公民身份号码", "personal": True, "sensitive": True},
         {"key": "result", "name": "查询结果"}, {"key": "issued_on", "name": "出具日期", "type": "date"}]


def make(*, served_by=None):
    police, hr, bureau = f.department("公安局"), f.department("人社局"), f.department("行政审批局")
    crime = exchange.publish_resource(actor=xf.SYSTEM, department=police, code=f"BM-{police.code}-00001",
                                      name="无犯罪记录证明", share_type="conditional",
                                      content=xf.content(adapter="cert.no_criminal_record", items=ITEMS))
    social = exchange.publish_resource(actor=xf.SYSTEM, department=hr, code=f"BM-{hr.code}-00001",
                                       name="社保缴费证明", share_type="conditional",
                                       content=xf.content(adapter="cert.social_insurance", items=ITEMS,
                                                          served_by=served_by))
    until = timezone.localdate() + datetime.timedelta(days=30)
    for res in (crime, social):
        ag = exchange.apply_for_resource(actor=xf.SYSTEM, consumer=bureau, resource=res, purpose="材料复用",
                                         legal_basis="申请人授权", fields=[i["key"] for i in ITEMS],
                                         clear_fields=["name"], valid_until=until)
        exchange.approve_agreement(actor=xf.SYSTEM, agreement=ag)
    content = {
        "description": "人才安居补贴", "legal_limit_days": 20, "promised_limit_days": 10, "visits": 0,
        "result": {"kind": "document", "name": "核准通知书"},
        "materials": [{"key": "no_crime_proof", "name": "无犯罪记录证明", "source": "government",
                       "resource": crime.code},
                      {"key": "social_insurance_proof", "name": "社保缴费证明", "source": "government",
                       "resource": social.code}],
        "fields": [{"key": "applicant_name", "label": "申请人", "prefill": "person.name"}],
        "process": "fast",
    }
    item = onestop.create_item(actor=system_actor("test"), department=bureau, basic_code="JF03101000", name="人才安居补贴申领",
                               item_type="JF", content=content)
    citizen = f.user(Role.CITIZEN)
    idn = f.id_number("19950301")
    person = register_person(actor=system_actor("test"), name="赵小红", id_number=idn, phone="13800002222")
    link_account(person=person, user=citizen)
    citizen.refresh_from_db()
    xf.certificate(idn, kind="no_criminal_record", name="赵小红")
    xf.certificate(idn, kind="social_insurance", name="赵小红", result="正常参保，累计缴费36个月")
    return {"item": item, "citizen": citizen, "crime": crime, "social": social, "bureau": bureau,
            "officer": f.user(Role.OFFICER, department=bureau), "id_number": idn}
