"""A small world for 用数赋智, made through the real services: a police department publishing the
register's person resource (with its death/moving events), an e-licence directory, a street office
that grants 高龄津贴, a bureau whose item has 秒批 rules, and people of the right and wrong ages."""

import datetime

from django.utils import timezone

from smartgov.core.permissions import Role, system_actor
from smartgov.exchange import services as exchange
from smartgov.identity.services import link_account, register_person
from smartgov.licences.models import HolderKind
from smartgov.licences.services import create_licence_type, issue_licence
from smartgov.onestop import services as onestop
from smartgov.smart import services
from smartgov.smart.demo import id_number_born, years_ago
from tests import factories as f

SYSTEM = system_actor("tests")
PERSON_ITEMS = [{"key": "name", "name": "姓名", "personal": True},
                {"key": "id_number", "name": "公民身份号码", "personal": True, "sensitive": True},
                {"key": "birth_date", "name": "出生日期", "type": "date"},
                {"key": "region_code", "name": "住址行政区划代码", "type": "code"}]
LICENCE_ITEMS = [{"key": "holder", "name": "持证主体", "personal": True}, {"key": "count", "name": "有效证照数", "type": "number"},
                 {"key": "licences", "name": "证照列表"}]
ELDER_ITEM = "JF02004000"  # the street's one-stop item 高龄津贴申领: each grant is a case of it
BENEFIT_ITEM = {"description": "按月发放津贴", "legal_limit_days": 20, "promised_limit_days": 10, "visits": 0,
                "result": {"kind": "document", "name": "津贴发放决定"}, "process": "fast"}
BY_ID = [{"key": "id_number", "name": "公民身份号码", "type": "id_number"}]


def _content(adapter, items, params, events=()):
    return {"summary": "测试", "category": "JC", "items": items, "params": params, "share_condition": "依职责",
            "update_cycle": "realtime", "legal_basis": "测试依据", "served_by": {"kind": "internal", "adapter": adapter},
            "events": list(events)}


def elder_definition(**over):
    d = {"benefit": "高龄津贴", "unit": "元/月", "amount": 100, "recheck_days": 30, "item": ELDER_ITEM,
         "sources": {"person": {"resource": "", "fields": ["name", "birth_date", "region_code"],
                                "params": {"id_number": "subject.id_number"}}},
         "condition": {"all": [{"fact": "person.birth_date", "op": "age_ge", "value": 80, "label": "年满80周岁"},
                               {"fact": "person.region_code", "op": "startswith", "value": "3301", "label": "户籍在本市"}]},
         "tiers": [{"name": "90周岁以上", "amount": 200,
                    "condition": {"fact": "person.birth_date", "op": "age_ge", "value": 90}},
                   {"name": "80至89周岁", "amount": 100,
                    "condition": {"fact": "person.birth_date", "op": "age_ge", "value": 80}}],
         "screen": {"register": {"fact": "register.birth_date", "op": "age_ge", "value": 80}},
         "ends_on": {"person.deceased": "享受人已去世"}, "recheck_on": ["person.moved"]}
    d.update(over)
    return d


def instant_definition(**over):
    d = {"sample_rate": 0.0,
         "sources": {"person": {"resource": "", "fields": ["birth_date"], "params": {"id_number": "subject.id_number"}},
                     "licence": {"resource": "", "fields": ["count"],
                                 "params": {"id_number": "subject.id_number", "type_code": "TJSZ"}}},
         "rules": [{"name": "年龄未满70周岁", "condition": {"fact": "person.birth_date", "op": "age_lt", "value": 70}},
                   {"name": "持有有效驾驶证", "condition": {"fact": "licence.count", "op": "ge", "value": 1}},
                   {"name": "准驾车型为C1或C2",
                    "condition": {"fact": "form.licence_class", "op": "in", "value": ["C1", "C2"]}}]}
    d.update(over)
    return d


def citizen(name, born, seq, department):
    person = register_person(actor=SYSTEM, name=name, id_number=id_number_born(born, seq), department=department,
                             region_code="330102", address="示范市东城区东华路8号")
    user = f.user(Role.CITIZEN, name=name)
    link_account(person=person, user=user)
    user.refresh_from_db()
    return person, user


def make():
    today = timezone.localdate()
    police, zwj, street, bureau = (f.department("公安局"), f.department("政务服务数据局"), f.department("街道"),
                                   f.department("车管所"))
    person_res = exchange.publish_resource(
        actor=SYSTEM, department=police, code=f"JC-{police.code}-00001", name="人口基本信息", share_type="conditional",
        content=_content("identity.person", PERSON_ITEMS, BY_ID, ["person.deceased", "person.moved"]))
    licence_res = exchange.publish_resource(
        actor=SYSTEM, department=zwj, code=f"BM-{zwj.code}-00001", name="个人电子证照目录", share_type="unconditional",
        content=_content("licences.person", LICENCE_ITEMS,
                         [*BY_ID, {"key": "type_code", "name": "证照类型代码", "type": "code", "required": False}],
                         ["licence.issued"]))
    until = today + datetime.timedelta(days=30)
    for consumer in (street, bureau):
        for res in (person_res, licence_res):
            ag = exchange.apply_for_resource(actor=SYSTEM, consumer=consumer, resource=res, purpose="资格核验",
                                             legal_basis="职责", fields=[i["key"] for i in res.versions.get(
                                                 version=res.current_version).content["items"]],
                                             valid_until=until, rate_limit=1000)
            if ag.status == "pending":
                exchange.approve_agreement(actor=SYSTEM, agreement=ag)
    exchange.subscribe(actor=SYSTEM, consumer=street, resource=person_res, handler="smart.entitlements")
    w_item = onestop.create_item(actor=SYSTEM, department=street, basic_code=ELDER_ITEM, name="高龄津贴申领",
                                 item_type="JF", content=BENEFIT_ITEM)
    w = {"police": police, "zwj": zwj, "street": street, "bureau": bureau, "person_res": person_res,
         "licence_res": licence_res, "benefit_item": w_item, "street_officer": f.user(Role.OFFICER, department=street),
         "street_admin": f.user(Role.DEPT_ADMIN, department=street),
         "bureau_admin": f.user(Role.DEPT_ADMIN, department=bureau),
         "bureau_officer": f.user(Role.OFFICER, department=bureau), "today": today}
    w["elder"], w["elder_user"] = citizen("王大爷", years_ago(today, 80), 11, police)
    w["young"], w["young_user"] = citizen("赵小年", years_ago(today, 79) - datetime.timedelta(days=-1), 22, police)
    w["nonagenarian"], w["nonagenarian_user"] = citizen("刘奶奶", years_ago(today, 91), 33, police)
    defn = elder_definition()
    defn["sources"]["person"]["resource"] = person_res.code
    w["entitlement"] = services.publish_entitlement(actor=w["street_admin"], department=street, code="TGLJT",
                                                    name="高龄津贴", definition=defn)
    # 秒批: an item whose result is a driving licence of the bureau
    w["jsz"] = create_licence_type(actor=system_actor("test"), name="驾驶证", code="TJSZ", department=bureau, holder_kind=HolderKind.PERSON,
                                   field_template=[{"key": "licence_class", "label": "准驾车型", "required": True}])
    w["item"] = onestop.create_item(actor=system_actor("test"), department=bureau, basic_code="XK00205000", name="机动车驾驶证换证",
                                    item_type="XK", content={
                                        "description": "驾驶证到期换证", "legal_limit_days": 1, "promised_limit_days": 1,
                                        "visits": 0, "result": {"kind": "licence", "name": "驾驶证", "licence_type": "TJSZ"},
                                        "materials": [{"key": "id_card", "name": "居民身份证", "source": "government"}],
                                        "fields": [{"key": "applicant_name", "label": "申请人", "prefill": "person.name"},
                                                   {"key": "licence_class", "label": "准驾车型", "type": "choice",
                                                    "choices": ["C1", "C2", "B1"]}],
                                        "process": "fast"})
    w["driver"], w["driver_user"] = citizen("李司机", years_ago(today, 40), 44, police)
    w["old_driver"], w["old_driver_user"] = citizen("钱师傅", years_ago(today, 72), 55, police)
    for p in (w["driver"], w["old_driver"]):
        issue_licence(actor=SYSTEM, licence_type=w["jsz"], holder_person=p, data={"licence_class": "C1"})
    return w


def publish_instant(w, **over):
    d = instant_definition(**over)
    d["sources"]["person"]["resource"] = w["person_res"].code
    d["sources"]["licence"]["resource"] = w["licence_res"].code
    return services.publish_instant_rules(actor=w["bureau_admin"], item=w["item"], definition=d)


def apply(w, user, licence_class="C1"):
    item = w["item"]
    return onestop.apply(actor=user, item=item, answers={},
                         form_data={"applicant_name": user.name, "licence_class": licence_class})
