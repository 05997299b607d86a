"""Demo data of the exchange (safe to run twice): the departments that provide certificates, 28 resources
of 14 departments backed by what the platform holds (the register, e-licences, case results, trace and
grain data) and by the certificate adapters' demo records, agreements for the district approval bureaus
(some approved, one pending, one refused), an in-platform subscription, and a few logged calls."""

import datetime

from django.db import transaction
from django.utils import timezone

from smartgov.accounts.models import Department, Level, User
from smartgov.accounts.services import create_department
from smartgov.core.fields import blind_lookup
from smartgov.core.permissions import system_actor
from smartgov.core.validators import org_code_check_char, uscc_check_char
from smartgov.identity.models import Enterprise, Person

from .models import Agreement, CertificateKind, CertificateRecord, Message, Resource, Subscription
from .services import (
    apply_for_resource,
    approve_agreement,
    call_resource,
    publish_resource,
    refuse_agreement,
    seal_all,
    subscribe,
)

ACTOR = system_actor("demo")

# (code, name, parent code, 8-char organisation code body)
DEPARTMENTS = [  # the same codes and organisation codes as the one-stop catalogue's, whichever loads first
    ("SFC-SWJ", "国家税务总局示范市税务局", "SF-ZWJ", "00250041"),
    ("SFC-RSJ", "示范市人力资源和社会保障局", "SFC-ZWJ", "00250042"),
    ("SFC-YBJ", "示范市医疗保障局", "SFC-ZWJ", "00250043"),
    ("SFC-WJW", "示范市卫生健康委员会", "SFC-ZWJ", "00250044"),
    ("SFC-MZJ", "示范市民政局", "SFC-ZWJ", "00250045"),
    ("SFC-BDC", "示范市不动产登记中心", "SFC-ZWJ", "00250048"),
    ("SFC-GJJ", "示范市住房公积金管理中心", "SFC-ZWJ", "00250049"),
]

NAME = {"key": "name", "name": "姓名", "length": 50, "personal": True}
ID = {"key": "id_number", "name": "公民身份号码", "length": 18, "personal": True, "sensitive": True, "check": "id_number"}
BY_ID = [{"key": "id_number", "name": "公民身份号码", "type": "id_number"}]
BY_USCC = [{"key": "uscc", "name": "统一社会信用代码", "type": "uscc"}]
BY_USCC_TYPE = [*BY_USCC, {"key": "type_code", "name": "证照类型代码", "type": "code", "required": False}]
BY_ID_TYPE = [*BY_ID, {"key": "type_code", "name": "证照类型代码", "type": "code", "required": False}]


def _i(key, name, type_="string", length=0, **kw):
    return {"key": key, "name": name, "type": type_, "length": length, **kw}


CERT_COMMON = [NAME, ID, _i("certificate_no", "证明编号", length=32), _i("issued_on", "出具日期", "date"),
               _i("issuer", "出具单位", length=100)]

PERSON_ITEMS = [NAME, ID, _i("sex", "性别", "code", 1), _i("birth_date", "出生日期", "date"),
                _i("nationality", "国籍", "code", 3)]
ADDRESS_ITEMS = [NAME, ID, _i("region_code", "住址行政区划代码", "code", 6),
                 _i("address", "住址", length=200, personal=True), _i("registered_by", "登记机关", length=100)]
ENTERPRISE_ITEMS = [_i("name", "企业名称", length=200), _i("uscc", "统一社会信用代码", "code", 18, check="uscc"),
                    _i("status", "登记状态", "code", 8), _i("established_on", "成立日期", "date"),
                    _i("region_code", "住所行政区划代码", "code", 6), _i("address", "住所", length=200),
                    _i("legal_representative", "法定代表人", length=50, personal=True),
                    _i("registered_by", "登记机关", length=100)]
LICENCE_ITEMS = [_i("holder", "持证主体", length=200, personal=True), _i("count", "有效证照数", "number"),
                 _i("licences", "证照列表（标识、类型、签发日期、有效期、发证机关、状态）", length=4000)]
CASE_ITEMS = [_i("number", "办件编号", "code", 22), _i("item", "事项名称", length=200),
              _i("department", "办理部门", length=100), _i("applicant", "申请人", length=200, personal=True),
              _i("state", "办件状态", "code", 16), _i("decided_at", "决定时间", "date"),
              _i("result_licence", "结果证照标识", "code", 60)]
TRACE_ITEMS = [_i("code", "追溯码", "code", 40), _i("genuine", "是否为真", "boolean"), _i("expired", "是否过期", "boolean"),
               _i("recalled", "是否召回", "boolean"), _i("product", "产品名称", length=200),
               _i("lot", "批号", "code", 40), _i("expiry", "有效期至", "date"), _i("manufacturer", "生产企业", length=200)]
DEPOT_ITEMS = [_i("code", "库点编码", "code", 32), _i("name", "库点名称", length=100), _i("address", "地址", length=200),
               _i("warehouses", "仓房数", "number"), _i("tonnes", "在储数量（吨）", "number"),
               _i("stock", "分仓库存（仓号、品种、数量、收获年度、粮权）", length=4000)]


def _cert(kind, extra):
    return {"adapter": f"cert.{kind}", "items": CERT_COMMON + extra, "params": BY_ID}


# (code, name, provider, share type, condition, adapter, items, params, cycle, legal basis, events, summary)
RESOURCES = [
    ("JC-SFC-GAJ-00001", "人口基本信息", "SFC-GAJ", "conditional", "用于依法履职需核验身份的政务服务事项",
     "identity.person", PERSON_ITEMS, BY_ID, "realtime", "《中华人民共和国居民身份证法》；《政务信息资源共享管理暂行办法》",
     ["person.deceased", "person.moved"], "人口库中自然人的姓名、公民身份号码、性别、出生日期、国籍。"),
    ("JC-SFC-GAJ-00002", "户籍地址信息", "SFC-GAJ", "conditional", "用于户籍地、居住地相关的政务服务事项",
     "identity.person", ADDRESS_ITEMS, BY_ID, "realtime", "《中华人民共和国户口登记条例》", [],
     "自然人的住址行政区划、住址与登记机关。"),
    ("BM-SFC-GAJ-00003", "无犯罪记录证明", "SFC-GAJ", "conditional", "依申请人授权，用于从业资格、入学入职审查",
     *_cert("no_criminal_record", [_i("result", "查询结果", length=100)]).values(), "daily",
     "《公安机关办理无犯罪记录证明工作规定》", [], "公安机关出具的无犯罪记录证明。"),
    ("BM-SFC-GAJ-00004", "户籍证明", "SFC-GAJ", "conditional", "依申请人授权，用于户籍相关的政务服务事项",
     *_cert("household", [_i("household_address", "户籍地址", length=200, personal=True),
                          _i("relation", "与户主关系", length=20)]).values(), "daily", "《中华人民共和国户口登记条例》",
     [], "公安机关出具的户籍证明（户籍地址、与户主关系）。"),
    ("BM-SFC-GAJ-00005", "公民身份核验", "SFC-GAJ", "unconditional", "", "identity.person", [NAME, ID], BY_ID, "realtime",
     "《中华人民共和国居民身份证法》", [], "核验姓名与公民身份号码是否一致（仅返回授权字段，默认脱敏）。"),
    ("BM-SFC-GAJ-00006", "违法犯罪记录明细", "SFC-GAJ", "none", "", "cert.no_criminal_record", CERT_COMMON, BY_ID,
     "daily", "《中华人民共和国个人信息保护法》第二十八条", [], "涉及敏感个人信息，不予共享（仅出具无犯罪记录证明）。"),
    ("BM-SFC-CRJ-00001", "出入境记录", "SFC-CRJ", "none", "", "identity.person", [NAME, ID], BY_ID, "realtime",
     "《中华人民共和国出境入境管理法》", [], "出入境记录，不予共享。"),
    ("JC-SFC-SJJ-00001", "市场主体登记信息", "SFC-SJJ", "unconditional", "", "identity.enterprise", ENTERPRISE_ITEMS,
     BY_USCC, "realtime", "《中华人民共和国市场主体登记管理条例》", ["enterprise.revoked", "enterprise.cancelled"],
     "法人库中市场主体的名称、统一社会信用代码、状态、成立日期、住所、法定代表人。"),
    ("BM-SFC-SJJ-00002", "市场主体登记状态", "SFC-SJJ", "unconditional", "", "identity.enterprise",
     ENTERPRISE_ITEMS[:3], BY_USCC, "realtime", "《中华人民共和国市场主体登记管理条例》", ["enterprise.revoked"],
     "市场主体是否存续、吊销或注销。"),
    ("BM-SFC-SJJ-00003", "营业执照与食品经营许可证", "SFC-SJJ", "unconditional", "", "licences.enterprise",
     LICENCE_ITEMS, BY_USCC_TYPE, "realtime", "《电子证照 总体技术架构》GB/T 36901", ["licence.revoked"],
     "市场监管部门签发的企业电子证照。"),
    ("BM-SFC-ZWJ-00001", "个人电子证照目录", "SFC-ZWJ", "conditional", "依持证人授权或法定职责",
     "licences.person", LICENCE_ITEMS, BY_ID_TYPE, "realtime", "《国务院关于在线政务服务的若干规定》第十条",
     ["licence.issued", "licence.revoked"], "电子证照库中个人的有效证照。"),
    ("BM-SFC-ZWJ-00002", "企业电子证照目录", "SFC-ZWJ", "unconditional", "", "licences.enterprise",
     LICENCE_ITEMS, BY_USCC_TYPE, "realtime", "《国务院关于在线政务服务的若干规定》第十条", ["licence.revoked"],
     "电子证照库中企业的有效证照。"),
    ("BM-DC-SPJ-00001", "办件结果信息", "DC-SPJ", "unconditional", "", "onestop.case", CASE_ITEMS,
     [{"key": "number", "name": "办件编号", "type": "code"}], "realtime", "《国务院关于在线政务服务的若干规定》", [],
     "东城区行政审批局办件的状态与结果。"),
    ("BM-SF-SJJ-00001", "药品追溯码信息", "SF-SJJ", "unconditional", "", "trace.code", TRACE_ITEMS,
     [{"key": "code", "name": "追溯码", "type": "code"}], "realtime", "《药品管理法》第十二条；《疫苗管理法》第十条",
     ["drug.recalled"], "追溯码对应的产品、批号、有效期、生产企业，是否为真、过期或召回。"),
    ("BM-SF-SJJ-00002", "药品召回状态", "SF-SJJ", "unconditional", "", "trace.code", TRACE_ITEMS[:4],
     [{"key": "code", "name": "追溯码", "type": "code"}], "realtime", "《药品召回管理办法》", ["drug.recalled"],
     "追溯码是否被召回、是否过期。"),
    ("BM-SFC-LSJ-00001", "储备粮库点库存", "SFC-LSJ", "conditional", "用于粮食安全监管与应急调度", "grain.depot",
     DEPOT_ITEMS, [{"key": "code", "name": "库点编码", "type": "code"}], "daily", "《粮食流通管理条例》；《中央储备粮管理条例》",
     [], "库点各仓房的品种、数量、收获年度与粮权。"),
    ("BM-SFC-LSJ-00002", "粮库基本信息", "SFC-LSJ", "unconditional", "", "grain.depot", DEPOT_ITEMS[:4],
     [{"key": "code", "name": "库点编码", "type": "code"}], "monthly", "《粮食流通管理条例》", [], "库点名称、地址与仓房数。"),
    ("BM-SFC-RSJ-00001", "社保缴费证明", "SFC-RSJ", "conditional", "依申请人授权，用于购房、入学、落户等事项",
     *_cert("social_insurance", [_i("insured_status", "参保状态", "code", 10),
                                 _i("months", "累计缴费月数", "number"), _i("last_paid", "最近缴费年月", "code", 7)]).values(),
     "monthly", "《中华人民共和国社会保险法》", [], "社会保险参保及缴费情况证明。"),
    ("BM-SFC-RSJ-00002", "社会保险参保状态", "SFC-RSJ", "unconditional", "", "cert.social_insurance",
     [NAME, ID, _i("insured_status", "参保状态", "code", 10)], BY_ID, "monthly", "《中华人民共和国社会保险法》", [],
     "是否正常参保。"),
    ("BM-SFC-SWJ-00001", "纳税证明", "SFC-SWJ", "conditional", "依纳税人授权，用于购房、落户、资格审查",
     *_cert("tax_payment", [_i("period", "所属期间", length=30), _i("tax_paid", "已缴税额（元）", "number")]).values(),
     "monthly", "《中华人民共和国税收征收管理法》第八条", [], "个人所得税等完税（纳税）证明。"),
    ("BM-SFC-SWJ-00002", "纳税信用等级", "SFC-SWJ", "conditional", "用于信用监管与评优评先", "cert.tax_payment",
     [NAME, ID, _i("credit_grade", "纳税信用等级", "code", 1)], BY_ID, "yearly", "《纳税信用管理办法》", [],
     "纳税信用等级（A/B/M/C/D）。"),
    ("BM-SFC-BDC-00001", "不动产登记证明", "SFC-BDC", "conditional", "依权利人授权，用于不动产交易、入学、公积金提取",
     *_cert("real_estate", [_i("property_count", "名下不动产数", "number"),
                            _i("properties", "不动产单元（坐落、面积、用途）", length=4000, personal=True)]).values(),
     "daily", "《不动产登记暂行条例》第二十七条", [], "名下不动产登记情况证明。"),
    ("BM-SFC-BDC-00002", "有无房产查询", "SFC-BDC", "conditional", "用于住房保障、公积金等资格审查",
     "cert.real_estate", [NAME, ID, _i("property_count", "名下不动产数", "number")], BY_ID, "daily",
     "《不动产登记资料查询暂行办法》", [], "名下是否有登记的住房。"),
    ("BM-SFC-MZJ-00001", "婚姻登记证明", "SFC-MZJ", "conditional", "依当事人授权，用于落户、购房、生育登记",
     *_cert("marriage", [_i("marital_status", "婚姻状况", "code", 4),
                         _i("spouse_name", "配偶姓名", length=50, personal=True),
                         _i("registered_on", "登记日期", "date")]).values(),
     "daily", "《婚姻登记条例》", [], "婚姻登记记录证明。"),
    ("BM-SFC-WJW-00001", "出生医学证明", "SFC-WJW", "conditional", "用于户口登记、入学、社保参保",
     *_cert("birth", [_i("birth_place", "出生地点", length=100), _i("mother_name", "母亲姓名", length=50, personal=True)]
            ).values(), "daily", "《中华人民共和国母婴保健法》第二十三条", [], "出生医学证明信息。"),
    ("BM-SFC-YBJ-00001", "医保参保证明", "SFC-YBJ", "conditional", "依申请人授权，用于参保转移、资格审查",
     *_cert("medical_insurance", [_i("insured_status", "参保状态", "code", 10), _i("scheme", "险种", length=30)]).values(),
     "monthly", "《医疗保障基金使用监督管理条例》", [], "基本医疗保险参保证明。"),
    ("BM-SFC-GJJ-00001", "住房公积金缴存证明", "SFC-GJJ", "conditional", "依缴存人授权，用于贷款、购房资格审查",
     *_cert("housing_fund", [_i("account_status", "账户状态", "code", 10), _i("monthly", "月缴存额（元）", "number"),
                             _i("months", "连续缴存月数", "number")]).values(),
     "monthly", "《住房公积金管理条例》", [], "住房公积金缴存情况证明。"),
    ("BM-SFC-GJJ-00002", "公积金账户状态", "SFC-GJJ", "unconditional", "", "cert.housing_fund",
     [NAME, ID, _i("account_status", "账户状态", "code", 10)], BY_ID, "monthly", "《住房公积金管理条例》", [],
     "公积金账户是否正常缴存。"),
]

# certificate data by kind, for each register person (index into a few patterns)
ISSUERS = {"no_criminal_record": "示范市公安局", "household": "示范市公安局东华派出所",
           "social_insurance": "示范市社会保险事业管理中心", "tax_payment": "国家税务总局示范市东城区税务局",
           "real_estate": "示范市不动产登记中心", "marriage": "示范市东城区婚姻登记处", "birth": "示范市妇幼保健院",
           "medical_insurance": "示范市医疗保障事业管理中心", "housing_fund": "示范市住房公积金管理中心"}


def _certificate_data(kind: str, name: str, n: int, today: datetime.date) -> dict:
    issued = (today - datetime.timedelta(days=3 + n % 20)).isoformat()
    base = {"name": name, "certificate_no": f"{kind[:3].upper()}{today.year}{n:06d}", "issued_on": issued,
            "issuer": ISSUERS[kind]}
    extra = {
        "no_criminal_record": {"result": "未发现有犯罪记录"},
        "household": {"household_address": "示范市东城区东华路1号", "relation": "户主"},
        "social_insurance": {"insured_status": "正常参保", "months": 60 + n, "last_paid": f"{today.year}-{today.month:02d}"},
        "tax_payment": {"period": f"{today.year - 1}年度", "tax_paid": 12000 + 100 * n, "credit_grade": "A"},
        "real_estate": {"property_count": 1, "properties": "示范市东城区东华路1号2幢301室，89.5㎡，住宅"},
        "marriage": {"marital_status": "已婚", "spouse_name": "李四", "registered_on": "2012-05-20"},
        "birth": {"birth_place": "示范市妇幼保健院", "mother_name": "王芳"},
        "medical_insurance": {"insured_status": "正常参保", "scheme": "职工基本医疗保险"},
        "housing_fund": {"account_status": "正常缴存", "monthly": 2400, "months": 48},
    }[kind]
    return {**base, **extra}


def _content(adapter, items, params, cycle, basis, events, summary, condition, category):
    return {"summary": summary, "category": category, "items": items, "params": params,
            "share_condition": condition, "open_type": "closed", "update_cycle": cycle, "legal_basis": basis,
            "format": "api", "served_by": {"kind": "internal", "adapter": adapter}, "events": events}


def _departments(stdout):
    by_code = {d.code: d for d in Department.objects.all()}
    for code, name, parent, org in DEPARTMENTS:
        if code not in by_code and parent in by_code:
            body = "11" + "330100" + org + org_code_check_char(org)
            by_code[code] = create_department(actor=ACTOR, name=name, code=code, level=Level.CITY,
                                              parent=by_code[parent], uscc=body + uscc_check_char(body))
    return by_code


def _certificates():
    today = timezone.localdate()
    people = [(p.name, p.id_number) for p in Person.objects.order_by("pk")[:200]]
    people += [(u.name, u.id_number) for u in User.objects.filter(id_number__isnull=False).order_by("pk")]
    seen, made = set(), 0
    for n, (name, id_number) in enumerate(people):
        if not id_number or id_number in seen:
            continue
        seen.add(id_number)
        for kind in CertificateKind.values:
            if CertificateRecord.objects.filter(kind=kind, **blind_lookup(CertificateRecord, "id_number",
                                                                          id_number)).exists():
                continue
            CertificateRecord.objects.create(kind=kind, id_number=id_number,
                                             data=_certificate_data(kind, name, n, today))
            made += 1
    return made


# consumer → [(resource, fields or None for all, clear fields, approve)]
AGREEMENTS = {
    "DC-SPJ": ["BM-SFC-GAJ-00003", "BM-SFC-GAJ-00004", "BM-SFC-RSJ-00001", "BM-SFC-SWJ-00001", "BM-SFC-BDC-00001",
               "BM-SFC-MZJ-00001", "BM-SFC-WJW-00001", "BM-SFC-YBJ-00001", "BM-SFC-GJJ-00001", "JC-SFC-SJJ-00001",
               "BM-SFC-ZWJ-00002", "BM-SFC-GAJ-00005"],
    "XC-SPJ": ["BM-SFC-GAJ-00003", "BM-SFC-RSJ-00001", "BM-SFC-SWJ-00001", "JC-SFC-SJJ-00001"],
    "SFC-SWJ": ["BM-SFC-SJJ-00002"],
    "SF-SJJ": ["BM-SFC-LSJ-00002"],
}


def _agreements(by_code):
    until = timezone.localdate() + datetime.timedelta(days=365)
    made = 0
    resources = {r.code: r for r in Resource.objects.select_related("department")}
    plans = [(c, r, "approve") for c, codes in AGREEMENTS.items() for r in codes]
    plans += [("XC-SPJ", "JC-SFC-GAJ-00001", "pending"), ("SFC-LSJ", "BM-SFC-SWJ-00002", "refuse")]
    for consumer_code, code, decision in plans:
        consumer, resource = by_code.get(consumer_code), resources.get(code)
        if consumer is None or resource is None or Agreement.objects.filter(consumer=consumer, resource=resource).exists():
            continue
        content = resource.versions.get(version=resource.current_version).parsed
        keys = content.item_keys()
        # one-stop needs the documents in clear for the officer who examines them (申请人已授权)
        clear = sorted(content.personal_keys()) if consumer_code.endswith("-SPJ") else []
        ag = apply_for_resource(actor=ACTOR, consumer=consumer, resource=resource, purpose="政务服务事项办理中核验申请材料",
                                legal_basis=f"{content.legal_basis}；申请人授权", fields=keys, valid_until=until,
                                rate_limit=600, clear_fields=clear)
        if ag.status == "pending" and decision == "approve":
            approve_agreement(actor=ACTOR, agreement=ag, reason="符合共享条件")
        elif ag.status == "pending" and decision == "refuse":
            refuse_agreement(actor=ACTOR, agreement=ag, reason="用途与纳税信用等级无直接关联")
        made += 1
    return made


def load_demo(*, stdout) -> None:
    with transaction.atomic():
        by_code = _departments(stdout)
        published = 0
        for (code, name, dept, share, condition, adapter, items, params, cycle, basis, events,
             summary) in RESOURCES:
            department = by_code.get(dept)
            if department is None:
                continue
            before = Resource.objects.filter(code=code).values_list("current_version", flat=True).first()
            r = publish_resource(actor=ACTOR, department=department, code=code, name=name, share_type=share,
                                 content=_content(adapter, items, params, cycle, basis, events, summary, condition,
                                                  code[:2]))
            published += before != r.current_version
        certificates = _certificates()
        agreements = _agreements(by_code)
        dc = by_code.get("DC-SPJ")
        enterprise_register = Resource.objects.filter(code="JC-SFC-SJJ-00001").first()
        if dc and enterprise_register and not Subscription.objects.filter(consumer=dc).exists():
            subscribe(actor=ACTOR, consumer=dc, resource=enterprise_register, handler="exchange.audit")
    calls = 0
    if dc and not Message.objects.exists():
        person = Person.objects.filter(user__username="zhangsan").first()
        enterprise = Enterprise.objects.order_by("pk").first()
        work = []
        if person:
            work += [("BM-SFC-GAJ-00003", {"id_number": person.id_number}), ("BM-SFC-RSJ-00001",
                                                                              {"id_number": person.id_number}),
                     ("BM-SFC-GAJ-00005", {"id_number": person.id_number})]
        if enterprise:
            work.append(("JC-SFC-SJJ-00001", {"uscc": enterprise.uscc}))
        for code, params in work:
            call_resource(actor=system_actor("demo"), consumer=dc, resource_code=code, params=params,
                          purpose="演示：审核申请材料")
            calls += 1
        seal_all(actor=ACTOR)
    stdout.write(f"数据共享交换演示数据：新发布/更新 {published} 个资源，{certificates} 条部门证明数据，"
                 f"{agreements} 个共享申请，{calls} 次调用。")
