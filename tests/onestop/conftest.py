"""A small one-stop world made through the real services: a market regulator with a licence type and
two items, a tax office with one, a citizen in the register, officers and department heads."""

import pytest
from django.test import Client

from smartgov.core.permissions import Role, system_actor
from smartgov.identity.services import link_account, register_person
from smartgov.licences.models import HolderKind
from smartgov.licences.services import create_licence_type
from smartgov.onestop import services
from tests import factories as f

ID_CARD = {"key": "id_card", "name": "居民身份证", "source": "government"}
LICENCE_TEMPLATE = [{"key": "company_type", "label": "类型", "required": True},
                    {"key": "business_scope", "label": "经营范围", "required": True}]


def company_content(**over):
    content = {
        "description": "新设立有限责任公司", "synonyms": ["开公司", "注册公司"],
        "legal_basis": "《中华人民共和国市场主体登记管理条例》第三条", "acceptance_conditions": "材料齐全",
        "legal_limit_days": 15, "promised_limit_days": 3, "visits": 0, "online_depth": 4,
        "fees": [], "where": "市民中心", "hours": "工作日 9:00-17:00",
        "result": {"kind": "licence", "name": "营业执照", "licence_type": "TYYZZ", "registers_enterprise": True},
        "situations": [{"key": "premises_owned", "question": "经营场所是否自有？",
                        "options": [{"value": "yes", "label": "自有"}, {"value": "no", "label": "租赁"}]}],
        "materials": [ID_CARD,
                      {"key": "articles", "name": "公司章程"},
                      {"key": "lease", "name": "租赁合同", "condition": {"all": [{"situation": "premises_owned",
                                                                                    "in": ["no"]}]}}],
        "fields": [{"key": "applicant_name", "label": "申请人", "prefill": "person.name"},
                   {"key": "enterprise_name", "label": "企业名称"},
                   {"key": "company_type", "label": "类型", "type": "choice", "choices": ["有限责任公司"]},
                   {"key": "business_scope", "label": "经营范围", "type": "textarea"},
                   {"key": "registered_capital", "label": "注册资本（万元）", "type": "number"}],
        "process": "standard",
    }
    content.update(over)
    return content


def tax_content():
    return {
        "description": "新办纳税人涉税事项", "legal_limit_days": 5, "promised_limit_days": 1, "visits": 0,
        "result": {"kind": "document", "name": "税务登记信息确认"},
        "materials": [ID_CARD, {"key": "business_licence", "name": "营业执照", "source": "government",
                                "licence_type": "TYYZZ"}],
        "fields": [{"key": "enterprise_name", "label": "企业名称"},
                   {"key": "uscc", "label": "统一社会信用代码", "type": "uscc", "prefill": "enterprise.uscc"}],
        "process": "fast",
    }


@pytest.fixture
def world(db):
    regulator = f.department("市场监管局")
    tax = f.department("税务局")
    w = {
        "regulator": regulator, "tax": tax,
        "officer": f.user(Role.OFFICER, department=regulator),
        "chief": f.user(Role.DEPT_ADMIN, department=regulator),
        "tax_officer": f.user(Role.OFFICER, department=tax),
        "citizen": f.user(Role.CITIZEN),
    }
    person = register_person(actor=system_actor("test"), name="王小明", id_number=f.id_number("19880101"), phone="13800001111")
    link_account(person=person, user=w["citizen"])
    w["citizen"].refresh_from_db()
    create_licence_type(actor=system_actor("test"), name="营业执照", code="TYYZZ", department=regulator,
                        holder_kind=HolderKind.ENTERPRISE, field_template=LICENCE_TEMPLATE)
    w["company"] = services.create_item(actor=system_actor("test"), department=regulator, basic_code="XK00101000",
                                        name="有限责任公司设立登记", item_type="XK", content=company_content())
    w["tax_item"] = services.create_item(actor=system_actor("test"), department=tax, basic_code="GG00201000",
                                         name="新办纳税人涉税事项", item_type="GG", content=tax_content())
    w["bundle"] = services.create_bundle(actor=system_actor("test"), code="TKBQY", name="开办企业一件事",
                                         items=[w["company"], w["tax_item"]], synonyms=["开公司"])
    return w


@pytest.fixture
def citizen_client(world):
    client = Client()
    client.force_login(world["citizen"])
    return client


@pytest.fixture
def officer_client(world):
    return f.staff_client(world["officer"])


@pytest.fixture
def chief_client(world):
    return f.staff_client(world["chief"])


def upload(client, key="articles", name="公司章程", body=b"%PDF-1.4 test"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    resp = client.post("/api/onestop/materials", {"key": key, "name": name,
                                                  "file": SimpleUploadedFile("a.pdf", body, "application/pdf")})
    assert resp.status_code == 201, resp.content
    return resp.json()["id"]


COMPANY_FORM = {"enterprise_name": "示范市测试科技有限公司", "company_type": "有限责任公司",
                "business_scope": "软件开发", "registered_capital": "100", "applicant_name": "王小明"}
