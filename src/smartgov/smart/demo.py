"""Demo data of 用数赋智 (safe to run twice): the agreements the deciding departments need, three
免申即享 entitlements — 高龄津贴 at 80 with higher tiers at 90 and 100 (东华街道), 生育津贴 after a birth
(医保局), 残疾人两项补贴 after a disability certification (民政局) — subscriptions to the register's
events, demo people who qualify (a citizen account 王大爷 who turns 80 today), the 秒批 rules of
机动车驾驶证换证, and one screening run."""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from smartgov.accounts.models import Department, User
from smartgov.accounts.services import create_user
from smartgov.core.permissions import Role, system_actor
from smartgov.core.validators import id_number_check_char
from smartgov.exchange.models import Agreement, Resource, Subscription
from smartgov.exchange.services import apply_for_resource, approve_agreement, subscribe
from smartgov.exchange.services import deliver_due as exchange_deliver_due
from smartgov.identity.models import Person
from smartgov.identity.selectors import person_by_id_number
from smartgov.identity.services import link_account, register_person
from smartgov.licences.models import Licence, LicenceType
from smartgov.licences.services import issue_licence
from smartgov.onestop.models import ServiceItem

from .models import Entitlement, InstantRuleSet
from .services import publish_entitlement, publish_instant_rules, screen

ACTOR = system_actor("demo")
ELDER_USERNAME = "wangdaye"
DRIVING_ITEM = "XK00205000"
PERSON_LICENCES = "BM-SFC-ZWJ-00001"  # 个人电子证照目录 (publishes licence.issued / licence.revoked)

PERSON = {"resource": "JC-SFC-GAJ-00001", "fields": ["name", "birth_date"], "params": {"id_number": "subject.id_number"}}
ADDRESS = {"resource": "JC-SFC-GAJ-00002", "fields": ["region_code"], "params": {"id_number": "subject.id_number"}}


def _licence_source(type_code: str) -> dict:
    return {"resource": PERSON_LICENCES, "fields": ["count"],
            "params": {"id_number": "subject.id_number", "type_code": type_code}}


def _age(lo: int, hi: int | None = None) -> dict:
    leaves = [{"fact": "person.birth_date", "op": "age_ge", "value": lo}]
    if hi:
        leaves.append({"fact": "person.birth_date", "op": "age_lt", "value": hi})
    return {"all": leaves}


ENTITLEMENTS = [
    ("DC-JD1", "GLJT", "高龄津贴", {
        "benefit": "高龄津贴", "unit": "元/月", "amount": 100, "recheck_days": 30, "item": "JF02004000",
        "legal_basis": "《中华人民共和国老年人权益保障法》第三十三条；示范市高龄津贴发放办法",
        "sources": {"person": PERSON, "address": ADDRESS},
        "condition": {"all": [
            {"fact": "person.birth_date", "op": "age_ge", "value": 80, "label": "年满80周岁"},
            {"fact": "address.region_code", "op": "startswith", "value": "3301", "label": "户籍在示范市"}]},
        "tiers": [{"name": "百岁老人", "amount": 500, "condition": _age(100)},
                  {"name": "90至99周岁", "amount": 200, "condition": _age(90, 100)},
                  {"name": "80至89周岁", "amount": 100, "condition": _age(80, 90)}],
        "screen": {"register": {"fact": "register.birth_date", "op": "age_ge", "value": 80}},
        "ends_on": {"person.deceased": "享受人已去世"}, "recheck_on": ["person.moved"]}),
    ("SFC-YBJ", "SYJT", "生育津贴", {
        "benefit": "生育津贴（一次性）", "unit": "元", "amount": 12000, "recheck_days": 366, "item": "JF00605000",
        "legal_basis": "《中华人民共和国社会保险法》第五十四条、第五十六条",
        "sources": {"birth": _licence_source("CSYXZM"),
                    "insured": {"resource": "BM-SFC-YBJ-00001", "fields": ["insured_status"],
                                "params": {"id_number": "subject.id_number"}}},
        "condition": {"all": [
            {"fact": "birth.count", "op": "ge", "value": 1, "label": "已签发出生医学证明"},
            {"fact": "insured.insured_status", "op": "eq", "value": "正常参保", "label": "正常参加基本医疗保险"}]},
        "screen": {"licence": "CSYXZM"}, "decide_on": {"licence.issued": {"type_code": "CSYXZM"}},
        "ends_on": {"person.deceased": "享受人已去世"}}),
    ("SFC-MZJ", "CJLXBT", "残疾人两项补贴", {
        "benefit": "困难残疾人生活补贴和重度残疾人护理补贴", "unit": "元/月", "amount": 120, "recheck_days": 90, "item": "JF00803000",
        "legal_basis": "《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》（国发〔2015〕52号）",
        "sources": {"disability": _licence_source("CJRZ"), "person": PERSON},
        "condition": {"all": [
            {"fact": "disability.count", "op": "ge", "value": 1, "label": "持有有效的残疾人证"},
            {"fact": "person.birth_date", "op": "exists", "label": "人口库有登记"}]},
        "screen": {"licence": "CJRZ"}, "decide_on": {"licence.issued": {"type_code": "CJRZ"}},
        "ends_on": {"person.deceased": "享受人已去世"},
        "recheck_on": ["licence.revoked"]}),
]

INSTANT_RULES = {
    "sample_rate": 0.2,
    "sources": {"person": {"resource": "JC-SFC-GAJ-00001", "fields": ["birth_date"],
                           "params": {"id_number": "subject.id_number"}},
                "licence": _licence_source("JSZ")},
    "rules": [
        {"name": "年龄未满70周岁（70周岁以上须提交身体条件证明并人工审核）",
         "condition": {"fact": "person.birth_date", "op": "age_lt", "value": 70, "label": "年龄未满70周岁"}},
        {"name": "持有有效的机动车驾驶证",
         "condition": {"fact": "licence.count", "op": "ge", "value": 1, "label": "电子证照库中有有效驾驶证"}},
        {"name": "准驾车型为小型汽车（C1/C2）",
         "condition": {"fact": "form.licence_class", "op": "in", "value": ["C1", "C2"], "label": "准驾车型为C1或C2"}},
    ],
}

# consumer → resources it needs (有条件共享 ones are approved here as the provider would)
AGREEMENTS = {"DC-JD1": ["JC-SFC-GAJ-00001", "JC-SFC-GAJ-00002"], "SFC-YBJ": ["BM-SFC-ZWJ-00001"],
              "SFC-MZJ": ["BM-SFC-ZWJ-00001", "JC-SFC-GAJ-00001"], "SFC-GAJ": ["BM-SFC-ZWJ-00001"]}
SUBSCRIPTIONS = [("DC-JD1", "JC-SFC-GAJ-00001"), ("SFC-MZJ", "BM-SFC-ZWJ-00001"), ("SFC-MZJ", "JC-SFC-GAJ-00001"),
                 ("SFC-YBJ", "BM-SFC-ZWJ-00001")]


def id_number_born(born: datetime.date, seq: int, region: str = "330102") -> str:
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + id_number_check_char(first17)


def years_ago(today: datetime.date, years: int) -> datetime.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def ensure_agreements(by_code: dict, plan: dict) -> int:
    """Apply for (and, as the provider, approve) what each consumer needs; returns how many were made."""
    made = 0
    until = timezone.localdate() + datetime.timedelta(days=365)
    for consumer_code, codes in plan.items():
        consumer = by_code.get(consumer_code)
        for code in codes:
            resource = Resource.objects.filter(code=code).first()
            if consumer is None or resource is None or resource.department_id == consumer.pk or \
                    Agreement.objects.filter(consumer=consumer, resource=resource, status="active").exists():
                continue
            keys = resource.versions.get(version=resource.current_version).parsed.item_keys()
            ag = apply_for_resource(actor=ACTOR, consumer=consumer, resource=resource, purpose="免申即享与秒批的资格核验",
                                    legal_basis="《国务院关于加快推进政务服务“跨省通办”的指导意见》；主管部门职责",
                                    fields=keys, valid_until=until, rate_limit=6000)
            if ag.status == "pending":
                approve_agreement(actor=ACTOR, agreement=ag, reason="符合共享条件")
            made += 1
    return made


def _people(by_code, today) -> None:
    gaj = by_code.get("SFC-GAJ")
    people = [("王大爷", years_ago(today, 80), 11, ELDER_USERNAME), ("刘奶奶", years_ago(today, 92), 22, None),
              ("陈寿星", years_ago(today, 101), 33, None), ("赵小年", years_ago(today, 79), 44, None)]
    for name, born, seq, username in people:
        id_number = id_number_born(born, seq)
        person = person_by_id_number(Person.objects.all(), id_number).first()
        if person is None:
            person = register_person(actor=ACTOR, name=name, id_number=id_number, department=gaj,
                                     region_code="330102", address="示范市东城区东华路8号")
        if username and not User.objects.filter(username=username).exists():
            # the same documented demo password as the other demo accounts (README)
            user = create_user(actor=ACTOR, username=username, role=Role.CITIZEN, name=name, id_number=id_number,
                               password=settings.DEMO_PASSWORD)
            link_account(person=person, user=user)


def _certifications(today) -> None:
    """A 出生医学证明 for 张三's newborn (he is insured: 生育津贴) and a 残疾人证 for 刘奶奶 (残疾人两项补贴),
    issued as the hospital and the disabled persons' federation would."""
    types = {t.code: t for t in LicenceType.objects.filter(code__in=["CSYXZM", "CJRZ"])}
    zhangsan = Person.objects.filter(user__username="zhangsan").first()
    granny = next((p for p in Person.objects.filter(name="刘奶奶")
                   if p.id_number == id_number_born(years_ago(today, 92), 22)), None)
    plans = [(zhangsan, "CSYXZM", {"child_name": "张小宝", "child_gender": "男", "child_birth_date": today.isoformat(),
                                   "birth_place": "示范市妇幼保健院", "mother_name": "王芳", "father_name": "张三"}),
             (granny, "CJRZ", {"disability_category": "肢体残疾二级"})]
    for person, code, data in plans:
        if person and code in types and not Licence.objects.filter(holder_person=person, licence_type=types[code]).exists():
            # the licence library's directory publishes licence.issued to its subscribers as it is issued
            # (the entitlements' decide_on decides for the holder at once)
            issue_licence(actor=ACTOR, licence_type=types[code], holder_person=person, data=data)


def load_demo(*, stdout) -> None:
    today = timezone.localdate()
    by_code = {d.code: d for d in Department.objects.all()}
    with transaction.atomic():
        agreements = ensure_agreements(by_code, AGREEMENTS)
        for consumer_code, code in SUBSCRIPTIONS:
            consumer, resource = by_code.get(consumer_code), Resource.objects.filter(code=code).first()
            if consumer and resource and not Subscription.objects.filter(consumer=consumer, resource=resource,
                                                                         handler="smart.entitlements").exists():
                subscribe(actor=ACTOR, consumer=consumer, resource=resource, handler="smart.entitlements")
        for dept_code, code, name, definition in ENTITLEMENTS:
            if dept_code in by_code and not Entitlement.objects.filter(code=code).exists():
                publish_entitlement(actor=ACTOR, department=by_code[dept_code], code=code, name=name,
                                    definition=definition)
        item = ServiceItem.objects.filter(basic_code=DRIVING_ITEM, department__code="SFC-GAJ").first()
        if item and not InstantRuleSet.objects.filter(item=item).exists():
            publish_instant_rules(actor=ACTOR, item=item, definition=INSTANT_RULES)
        _people(by_code, today)
        _certifications(today)
    # the licences just issued were published on the directory (licence.issued, with the holder's ID number
    # kept encrypted): delivering them decides 生育津贴 and 残疾人两项补贴 for their holders, as the worker would
    delivered = exchange_deliver_due(actor=system_actor("demo"), limit=500)["delivered"]
    counts = screen(actor=system_actor("demo"), today=today)
    stdout.write(f"用数赋智演示数据：{agreements} 个共享协议，{Entitlement.objects.count()} 个免申即享事项，"
                 f"投递事件 {delivered} 条，筛查 {counts['screened']} 人、新认定 {counts['offered']} 人；驾驶证换证已设秒批规则。")
