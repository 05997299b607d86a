"""``smartgov bench smart --json``: the three figures of issue 21, each beside the raw layer underneath.

- ``eligibility_persons_per_s``: a 免申即享 screen (年满80周岁 and 户籍在本市, compiled from the rule's JSON)
  over ``--size`` register rows (default 1,000,000) held in memory as the register query yields them;
  ``raw_loop_per_s`` is a hand-written Python loop doing the same two comparisons.
- ``instant_approval_p50_ms``/``_p99_ms``: submission to issued licence, in process — one-stop's apply,
  the 秒批 hook with two mediated exchange calls (signed and logged), the rules, prereview → acceptance
  → the workflow step → the e-licence (SM2-signed) — over 200 applications; ``exchange_call_ms`` the
  mean of one mediated call alone and ``rules_us`` one rule-set evaluation.
- ``ocr_field_accuracy`` and ``ocr_p50_ms``: 40 generated ID cards and business licences (random names,
  valid ID numbers and USCCs, rotation ±3°, Gaussian blur up to 1.5 px, JPEG quality 40–85) read by the
  offline engine; ``ocr_engine_p50_ms`` is the engine call alone.
"""

import datetime
import random
import statistics
import time

from django.utils import timezone

from smartgov.accounts import services as accounts
from smartgov.accounts.models import Level, User
from smartgov.core.permissions import Role, system_actor
from smartgov.core.validators import id_number_check_char, org_code_check_char, uscc_check_char
from smartgov.exchange import services as exchange
from smartgov.identity.services import link_account, register_person
from smartgov.licences.services import create_licence_type, issue_licence
from smartgov.onestop import services as onestop
from smartgov.onestop.models import Application, State

from . import ocr, rules, selectors, services
from .demo import id_number_born, years_ago
from .models import InstantRuleVersion

ACTOR = system_actor("bench")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红"


def _pct(values, p):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * p))], 1)


def eligibility(size: int) -> dict:
    rng = random.Random(21)
    today = timezone.localdate()
    start = datetime.date(1920, 1, 1).toordinal()
    span = today.toordinal() - start
    rows = [(i, datetime.date.fromordinal(start + rng.randrange(span)), rng.choice(("330102", "330106", "320102")),
             "M" if i % 2 else "F") for i in range(size)]
    cond = {"all": [{"fact": "register.birth_date", "op": "age_ge", "value": 80},
                    {"fact": "register.region_code", "op": "startswith", "value": "3301"}]}
    rules.check(cond, facts={"register.birth_date", "register.region_code", "register.sex"})
    t0 = time.perf_counter()
    n, hits = selectors.screen_register(cond, today=today, rows=iter(rows))
    rule_s = time.perf_counter() - t0
    cutoff = today.replace(year=today.year - 80) if not (today.month == 2 and today.day == 29) else \
        today.replace(year=today.year - 80, day=28)
    t0 = time.perf_counter()
    raw = [pk for pk, born, region, _sex in rows if born <= cutoff and region.startswith("3301")]
    raw_s = time.perf_counter() - t0
    assert raw == hits, "the compiled rule and the hand-written loop disagree"
    return {"persons": n, "qualifiers": len(hits), "eligibility_persons_per_s": round(n / rule_s),
            "raw_loop_per_s": round(n / raw_s)}


def _instant_world(n: int):
    def dept(name, code, org):
        body = "11330100" + org + org_code_check_char(org)
        return accounts.create_department(actor=system_actor("smart.bench"), name=name, code=code, level=Level.CITY,
                                          uscc=body + uscc_check_char(body))

    police, zwj, bureau = dept("基准公安局", "B-GAJ", "00990001"), dept("基准数据局", "B-ZWJ", "00990002"), \
        dept("基准车管所", "B-CGS", "00990003")
    by_id = [{"key": "id_number", "name": "公民身份号码", "type": "id_number"}]

    def content(adapter, items, params):
        return {"summary": "基准", "category": "JC", "items": items, "params": params, "share_condition": "职责",
                "update_cycle": "realtime", "legal_basis": "基准", "served_by": {"kind": "internal", "adapter": adapter}}

    person_res = exchange.publish_resource(actor=ACTOR, department=police, code="JC-B-GAJ-00001", name="人口",
                                           share_type="unconditional", content=content(
                                               "identity.person", [{"key": "birth_date", "name": "出生日期", "type": "date"}],
                                               by_id))
    licence_res = exchange.publish_resource(actor=ACTOR, department=zwj, code="BM-B-ZWJ-00001", name="证照",
                                            share_type="unconditional", content=content(
                                                "licences.person", [{"key": "count", "name": "数量", "type": "number"}],
                                                [*by_id, {"key": "type_code", "name": "类型", "type": "code",
                                                          "required": False}]))
    until = timezone.localdate() + datetime.timedelta(days=30)
    for res in (person_res, licence_res):
        exchange.apply_for_resource(actor=ACTOR, consumer=bureau, resource=res, purpose="基准", legal_basis="基准",
                                    fields=[res.versions.get().content["items"][0]["key"]], valid_until=until,
                                    rate_limit=100_000)
    jsz = create_licence_type(actor=system_actor("smart.bench"), name="驾驶证", code="BJSZ", department=bureau, holder_kind="person",
                              field_template=[{"key": "licence_class", "label": "准驾车型", "required": True}])
    item = onestop.create_item(actor=system_actor("smart.bench"), department=bureau, basic_code="XK00205000", name="驾驶证换证（基准）",
                               item_type="XK", content={
                                   "description": "基准", "legal_limit_days": 1, "promised_limit_days": 1, "visits": 0,
                                   "result": {"kind": "licence", "name": "驾驶证", "licence_type": "BJSZ"},
                                   "materials": [{"key": "id_card", "name": "居民身份证", "source": "government"}],
                                   "fields": [{"key": "licence_class", "label": "准驾车型", "type": "choice",
                                               "choices": ["C1", "C2"]}], "process": "fast"})
    services.publish_instant_rules(actor=ACTOR, item=item, definition={
        "sample_rate": 0.1,
        "sources": {"person": {"resource": person_res.code, "fields": ["birth_date"],
                               "params": {"id_number": "subject.id_number"}},
                    "licence": {"resource": licence_res.code, "fields": ["count"],
                                "params": {"id_number": "subject.id_number", "type_code": "BJSZ"}}},
        "rules": [{"name": "年龄未满70周岁", "condition": {"fact": "person.birth_date", "op": "age_lt", "value": 70}},
                  {"name": "持有有效驾驶证", "condition": {"fact": "licence.count", "op": "ge", "value": 1}},
                  {"name": "准驾车型C1/C2", "condition": {"fact": "form.licence_class", "op": "in", "value": ["C1", "C2"]}}]})
    users = []
    today = timezone.localdate()
    for i in range(n):
        person = register_person(actor=ACTOR, name=f"基准{i}", id_number=id_number_born(years_ago(today, 30 + i % 30),
                                                                                    i % 1000), department=police)
        user = accounts.create_user(actor=system_actor("smart.bench"), username=f"bench_smart_{i}", password=None, role=Role.CITIZEN,
                                    name=person.name)
        link_account(person=person, user=user)
        issue_licence(actor=ACTOR, licence_type=jsz, holder_person=person, data={"licence_class": "C1"})
        users.append(user)
    return item, users, licence_res


def instant(n: int, progress) -> dict:
    item, users, licence_res = _instant_world(n)
    exchange.seal_all(actor=ACTOR)
    times = []
    for k, user in enumerate(users):
        user = User.objects.select_related("person").get(pk=user.pk)
        t0 = time.perf_counter()
        onestop.apply(actor=user, item=item, answers={}, form_data={"licence_class": "C1"})
        times.append((time.perf_counter() - t0) * 1000)
        if k % 25 == 24:
            exchange.seal_all(actor=ACTOR)  # as the worker does every few seconds
        progress(1)
    issued = Application.objects.filter(item=item, state=State.ISSUED).count()
    # the raw layers: one mediated call, one rule-set evaluation
    person = users[0].person
    t0 = time.perf_counter()
    for _ in range(50):
        exchange.call_resource(actor=ACTOR, consumer=item.department, resource_code=licence_res.code,
                               params={"id_number": person.id_number, "type_code": "BJSZ"}, fields=["count"])
    call_ms = (time.perf_counter() - t0) * 1000 / 50
    definition = InstantRuleVersion.objects.get(ruleset__item=item).definition
    compiled = [rules.compile_condition(r["condition"], today=timezone.localdate()) for r in definition["rules"]]
    facts = {"person.birth_date": "1990-01-01", "licence.count": 1, "form.licence_class": "C1"}
    t0 = time.perf_counter()
    for _ in range(10_000):
        all(c(facts) is True for c in compiled)
    rules_us = (time.perf_counter() - t0) * 1e6 / 10_000
    return {"instant_applications": n, "instant_issued": issued, "instant_approval_p50_ms": _pct(times, 0.5),
            "instant_approval_p99_ms": _pct(times, 0.99), "exchange_call_ms": round(call_ms, 2),
            "rules_us": round(rules_us, 2)}


def _random_id(rng) -> tuple[str, str]:
    born = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(60 * 365))
    first17 = f"{rng.choice(['330102', '330106', '110101', '440305'])}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_number_check_char(first17), born.isoformat()


def _random_uscc(rng) -> str:
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body8 = "MA" + "".join(rng.choice(chars[:10] + "ABCDEFGH") for _ in range(6))
    first17 = "91330100" + body8 + org_code_check_char(body8)
    return first17 + uscc_check_char(first17)


def _name(rng, n=(1, 2)) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice(n)))


def ocr_accuracy(count: int, progress) -> dict:
    rng = random.Random(2026)
    right = total = 0
    page_ms, engine_ms = [], []
    misses = []
    ocr.engine()  # load the models before timing
    for i in range(count):
        noise = {"rotate": rng.uniform(-3, 3), "blur": rng.uniform(0, 1.5), "jpeg_quality": rng.randrange(40, 86)}
        if i % 2 == 0:
            id_number, born = _random_id(rng)
            truth = {"name": _name(rng), "id_number": id_number, "birth_date": born}
            data = {**truth, "sex": "男" if int(id_number[16]) % 2 else "女"}
            kind = "id_card"
        else:
            est = datetime.date(2000, 1, 1) + datetime.timedelta(days=rng.randrange(9000))
            truth = {"name": f"示范市{_name(rng, (2,))[1:]}{rng.choice(['科技', '餐饮', '贸易', '建设'])}有限公司",
                     "uscc": _random_uscc(rng), "legal_representative": _name(rng), "established_on": est.isoformat()}
            data = {**truth, "established_on_cn": f"{est.year}年{est.month:02d}月{est.day:02d}日",
                    "term_cn": f"{est.year}年{est.month:02d}月{est.day:02d}日至长期"}
            kind = "business_licence"
        image = ocr.render_document(kind, data, **noise)
        t0 = time.perf_counter()
        result = ocr.read_document(image, kind=kind)
        page_ms.append((time.perf_counter() - t0) * 1000)
        engine_ms.append(result.ms)
        for key, value in truth.items():
            total += 1
            if result.fields.get(key) == value:
                right += 1
            else:
                misses.append(f"{kind}.{key}")
        progress(1)
    return {"ocr_documents": count, "ocr_fields": total, "ocr_field_accuracy": round(right / total, 4),
            "ocr_misses": sorted(set(misses)), "ocr_p50_ms": round(statistics.median(page_ms)),
            "ocr_engine_p50_ms": round(statistics.median(engine_ms)), "ocr_engine": ocr.ENGINE_NAME}


def run(*, progress, size: int = 1_000_000, cases: int = 200, **_) -> dict:
    result = eligibility(size)
    result.update(instant(cases, progress))
    result.update(ocr_accuracy(40, progress))
    result["note"] = "shared 2-core machine; figures are of one run"
    return result


BENCHMARKS = {"smart": run}
