"""Exchange test data, made through the services."""

import datetime
import itertools

from django.utils import timezone

from smartgov.core.permissions import Role, system_actor
from smartgov.exchange import services
from smartgov.exchange.models import CertificateRecord
from tests import factories as f

_seq = itertools.count(1)
SYSTEM = system_actor("tests")

CERT_ITEMS = [
    {"key": "name", "name": "姓名", "personal": True},
    {"key": "id_number", "name": "公民身份号码", "length": 18, "personal": True, "sensitive": True, "check": "id_number"},
    {"key": "result", "name": "查询结果"},
    {"key": "issued_on", "name": "出具日期", "type": "date"},
]


def content(*, adapter="cert.no_criminal_record", items=None, served_by=None, events=None, share_condition="依申请"):
    return {"summary": "测试资源", "category": "BM", "items": items or CERT_ITEMS,
            "params": [{"key": "id_number", "name": "公民身份号码", "type": "id_number"}],
            "share_condition": share_condition, "update_cycle": "daily", "legal_basis": "测试依据",
            "served_by": served_by or {"kind": "internal", "adapter": adapter}, "events": events or []}


def resource(department=None, *, share_type="unconditional", **kw):
    department = department or f.department("提供局")
    n = next(_seq)
    return services.publish_resource(actor=SYSTEM, department=department, code=f"BM-{department.code}-{n:05d}",
                                     name=f"测试资源{n}", share_type=share_type, content=content(**kw))


def consumer_officer(department=None):
    department = department or f.department("使用局")
    return f.user(Role.OFFICER, department=department)


def agreement(resource, officer, *, fields=None, clear_fields=(), rate_limit=60, days=30, keep_content=False):
    return services.apply_for_resource(
        actor=officer, resource=resource, purpose="办理测试事项", legal_basis="《测试条例》第三条",
        fields=fields or ["name", "id_number", "result", "issued_on"], clear_fields=list(clear_fields),
        valid_until=timezone.localdate() + datetime.timedelta(days=days), rate_limit=rate_limit,
        keep_content=keep_content)


def certificate(id_number, kind="no_criminal_record", **data):
    row = CertificateRecord(kind=kind, id_number=id_number,
                            data={"name": "张三", "result": "未发现有犯罪记录", "issued_on": "2026-11-02", **data})
    row.full_clean(exclude=["id_number_bidx"])
    row.save()
    return row
