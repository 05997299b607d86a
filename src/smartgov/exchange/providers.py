"""Provider adapters: how the exchange reads a resource.

An *internal* provider is a function over another app's selectors (the register, e-licences, case
results, trace and grain data) or over a department system's demo data (the certificates public
security, human resources and social security, tax, natural resources and civil affairs issue). An
*external* provider is a department system's HTTP endpoint: the exchange POSTs ``{"params": …}`` as
JSON and expects ``{"found": bool, "record": {…}}`` back, within a timeout.

Each adapter returns the full record (``dict``) or ``None`` when nothing matches; the mediator removes
what the agreement does not grant and masks personal data. ``sample`` and ``updated_at`` feed the
data-quality report.
"""

import datetime
import http.client
import importlib
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import orjson
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.utils import timezone

from smartgov.core.errors import DomainError, InvalidInput, NotFound
from smartgov.core.fields import blind_lookup
from smartgov.grain.models import Depot, Lot
from smartgov.grain.selectors import active_lots
from smartgov.identity.models import Enterprise, Person
from smartgov.identity.selectors import person_by_id_number
from smartgov.licences.models import Licence
from smartgov.licences.selectors import find_holder
from smartgov.trace.models import CodeState
from smartgov.trace.selectors import public_lookup

from .models import CertificateRecord


class ProviderError(DomainError):
    status = 502
    code = "provider_error"
    message = "数据提供方系统返回错误"


class ProviderTimeout(DomainError):
    status = 504
    code = "provider_timeout"
    message = "数据提供方系统响应超时"


@dataclass(frozen=True)
class Adapter:
    name: str
    label: str
    fetch: Callable[[dict], dict | None]
    sample: Callable[[int], list[dict]]
    updated_at: Callable[[], datetime.datetime | None]


def _iso(value):
    return value.isoformat() if value else None


# --- the population and enterprise register (identity) ----------------------------------------------

def _person_record(person) -> dict:
    return {"name": person.name, "id_number": person.id_number, "sex": person.get_sex_display(),
            "birth_date": _iso(person.birth_date), "nationality": person.nationality,
            "region_code": person.region_code, "address": person.address,
            "registered_by": person.department.name if person.department_id else ""}


def _person(params: dict) -> dict | None:
    person = person_by_id_number(Person.objects.select_related("department"), params["id_number"]).first()
    return _person_record(person) if person else None


def _person_sample(n: int) -> list[dict]:
    return [_person_record(p) for p in Person.objects.select_related("department").order_by("-pk")[:n]]


def _person_updated():
    return Person.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()


def _enterprise_record(e) -> dict:
    rep = e.legal_representative
    return {"name": e.name, "uscc": e.uscc, "status": e.get_status_display(), "established_on": _iso(e.established_on),
            "region_code": e.region_code, "address": e.address,
            "legal_representative": rep.name if rep else "", "registered_by": e.department.name if e.department_id else ""}


def _enterprise(params: dict) -> dict | None:
    e = Enterprise.objects.select_related("legal_representative", "department").filter(
        uscc=params["uscc"].strip().upper()).first()
    return _enterprise_record(e) if e else None


def _enterprise_sample(n: int) -> list[dict]:
    return [_enterprise_record(e) for e in
            Enterprise.objects.select_related("legal_representative", "department").order_by("-pk")[:n]]


def _enterprise_updated():
    return Enterprise.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()


# --- e-licences ---------------------------------------------------------------------------------------

def _licences_of(holder_kind: str, code: str, type_code: str = "") -> dict | None:
    try:
        holder = find_holder(kind=holder_kind, code=code)
    except NotFound:
        return None
    rows = holder.licences.select_related("licence_type", "department") if hasattr(holder, "licences") else []
    today = timezone.localdate()
    items = [{"identifier": lic.identifier, "type": lic.licence_type.name, "type_code": lic.licence_type.code,
              "issued_on": _iso(lic.issued_on), "valid_until": _iso(lic.valid_until), "issuer": lic.department.name,
              "status": lic.get_status_display()}
             for lic in rows if lic.effective_status(today) == "valid"
             and (not type_code or lic.licence_type.code == type_code)]
    return {"holder": holder.name, "count": len(items), "licences": items}


def _person_licences(params):
    return _licences_of("person", params["id_number"], params.get("type_code", ""))


def _enterprise_licences(params):
    return _licences_of("enterprise", params["uscc"], params.get("type_code", ""))


def _licence_sample(n: int) -> list[dict]:
    return [{"identifier": lic.identifier, "type": lic.licence_type.name, "issued_on": _iso(lic.issued_on),
             "valid_until": _iso(lic.valid_until), "issuer": lic.department.name, "status": lic.get_status_display(),
             "holder": lic.holder_name, "count": 1, "licences": []}
            for lic in Licence.objects.select_related("licence_type", "department").order_by("-pk")[:n]]


def _licence_updated():
    return Licence.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()


# --- drug and vaccine traceability ---------------------------------------------------------------------

def _trace(params):
    try:
        found = public_lookup(params["code"])
    except InvalidInput:
        return None
    batch = found.get("batch") or {}
    if not batch:
        return None
    return {"code": found["code"], "genuine": found["genuine"], "expired": found.get("expired", False),
            "recalled": found.get("recalled", False), **{k: v for k, v in batch.items() if k != "batch_id"}}


def _trace_sample(n):
    epcs = CodeState.objects.exclude(batch_id=None).order_by("-pk").values_list("epc", flat=True)[:n]
    return [r for r in (_trace({"code": e}) for e in epcs) if r]


def _trace_updated():
    return CodeState.objects.exclude(commissioned_at=None).order_by("-commissioned_at").values_list(
        "commissioned_at", flat=True).first()


# --- grain reserves ---------------------------------------------------------------------------------------

def _depot(params):
    depot = Depot.objects.filter(code=params["code"].strip()).first()
    if depot is None:
        return None
    warehouses = list(depot.warehouses.all())
    lots = active_lots([w.pk for w in warehouses])
    stock = [{"warehouse": w.code, "variety": lots[w.pk].get_variety_display(), "tonnes": float(lots[w.pk].tonnes),
              "harvest_year": lots[w.pk].harvest_year, "owner": lots[w.pk].get_owner_display()}
             for w in warehouses if w.pk in lots]
    return {"code": depot.code, "name": depot.name, "address": depot.address, "warehouses": len(warehouses),
            "tonnes": round(sum(s["tonnes"] for s in stock), 3), "stock": stock}


def _depot_sample(n):
    return [r for r in (_depot({"code": c}) for c in Depot.objects.values_list("code", flat=True)[:n]) if r]


def _depot_updated():
    return Lot.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()


# --- certificates held by other departments' systems (demo data) ------------------------------------

@cache
def _certificate_sql() -> str:
    table = connection.ops.quote_name(CertificateRecord._meta.db_table)
    return f"SELECT id_number, data FROM {table} WHERE kind = %s AND id_number_bidx = %s"  # noqa: S608 (model's table)


def _certificate(kind: str):
    id_field, data_field = CertificateRecord._meta.get_field("id_number"), CertificateRecord._meta.get_field("data")

    def fetch(params):
        # every mediated call of a certificate resource reads here: one SELECT on the blind index
        # (unique per kind), each column through its field's own conversion (SM4 decryption, JSON)
        lookup = blind_lookup(CertificateRecord, "id_number", params["id_number"])
        with connection.cursor() as cur:
            cur.execute(_certificate_sql(), [kind, lookup["id_number_bidx"]])
            row = cur.fetchone()
        if row is None:
            return None
        return {**data_field.from_db_value(row[1], None, connection),
                "id_number": id_field.from_db_value(row[0], None, connection)}

    def sample(n):
        return [{**r.data, "id_number": r.id_number} for r in CertificateRecord.objects.filter(kind=kind).order_by("-pk")[:n]]

    def updated():
        return CertificateRecord.objects.filter(kind=kind).order_by("-updated_at").values_list(
            "updated_at", flat=True).first()

    return fetch, sample, updated


ADAPTERS: dict[str, Adapter] = {}


def register(adapter: Adapter) -> None:
    ADAPTERS[adapter.name] = adapter


for _name, _label, _fetch, _sample, _updated in [
    ("identity.person", "人口库：自然人基本信息", _person, _person_sample, _person_updated),
    ("identity.enterprise", "法人库：市场主体登记信息", _enterprise, _enterprise_sample, _enterprise_updated),
    ("licences.person", "电子证照库：个人有效证照", _person_licences, _licence_sample, _licence_updated),
    ("licences.enterprise", "电子证照库：企业有效证照", _enterprise_licences, _licence_sample, _licence_updated),
    ("trace.code", "药品追溯：追溯码信息", _trace, _trace_sample, _trace_updated),
    ("grain.depot", "粮食储备：库点库存", _depot, _depot_sample, _depot_updated),
]:
    register(Adapter(_name, _label, _fetch, _sample, _updated))

CERTIFICATE_ADAPTERS = {
    "no_criminal_record": "公安：无犯罪记录证明",
    "household": "公安：户籍证明",
    "social_insurance": "人社：社保缴费证明",
    "tax_payment": "税务：纳税证明",
    "real_estate": "自然资源：不动产登记证明",
    "marriage": "民政：婚姻登记证明",
    "birth": "卫健：出生医学证明",
    "medical_insurance": "医保：参保证明",
    "housing_fund": "公积金：缴存证明",
}
for _kind, _label in CERTIFICATE_ADAPTERS.items():
    register(Adapter(f"cert.{_kind}", _label, *_certificate(_kind)))


# --- calling ----------------------------------------------------------------------------------------------

_discovered = False


def discover() -> dict[str, Adapter]:
    """The adapters above plus those other apps offer in ``<app>/exchange_providers.py`` as
    ``ADAPTERS = [Adapter(...)]`` — so an app that consumes the exchange (one-stop) can also provide to
    it without the exchange importing that app."""
    global _discovered
    if not _discovered:
        for config in apps.get_app_configs():
            if not config.name.startswith("smartgov.") or config.label == "exchange":
                continue
            try:
                module = importlib.import_module(f"{config.name}.exchange_providers")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.exchange_providers":
                    raise
                continue
            for adapter in module.ADAPTERS:
                register(adapter)
        _discovered = True
    return ADAPTERS


def call_internal(adapter_name: str, params: dict) -> dict | None:
    adapter = discover().get(adapter_name)
    if adapter is None:
        raise ProviderError("资源的内部提供方不存在", code="provider_missing", detail={"adapter": adapter_name})
    try:
        return adapter.fetch(params)
    except DomainError:
        raise
    except Exception as exc:  # a provider's failure is the provider's, reported as 502 and logged
        raise ProviderError(detail={"adapter": adapter_name, "error": type(exc).__name__}) from exc


def call_http(url: str, params: dict, *, timeout_ms: int = 0) -> dict | None:
    """POST the query to a department system; 504 on timeout, 502 on anything but a well-formed answer."""
    timeout = (timeout_ms or settings.EXCHANGE_PROVIDER_TIMEOUT_MS) / 1000
    parts = urllib.parse.urlsplit(url)
    conn_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_cls(parts.hostname, parts.port, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        conn.request("POST", path, body=orjson.dumps({"params": params}),
                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        resp = conn.getresponse()
        body = resp.read(1_048_576 + 1)
    except TimeoutError as exc:
        raise ProviderTimeout(detail={"timeout_ms": int(timeout * 1000)}) from exc
    except OSError as exc:
        raise ProviderError("无法连接数据提供方系统", detail={"error": type(exc).__name__}) from exc
    finally:
        conn.close()
    if resp.status != 200 or len(body) > 1_048_576:
        raise ProviderError(detail={"status": resp.status})
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ProviderError("数据提供方返回的不是有效的JSON", detail={"status": resp.status}) from exc
    if not isinstance(answer, dict) or not isinstance(answer.get("found"), bool) or \
            (answer["found"] and not isinstance(answer.get("record"), dict)):
        raise ProviderError("数据提供方返回的格式不正确", code="provider_bad_answer")
    return answer["record"] if answer["found"] else None
