"""The demo service catalogue (``onestop/data/catalogue.json``) is valid and internally consistent.

Pure Python: no database."""

import json
import re
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path

import pytest

import smartgov.onestop
from smartgov.onestop.catalogue import BASIC_CODE, ItemContent

CATALOGUE = Path(smartgov.onestop.__file__).parent / "data" / "catalogue.json"

# Already in the demo (portal demo command): not listed again in the file, but usable.
DEMO_DEPARTMENTS = {"SF-ZWJ", "SF-SJJ", "SFC-ZWJ", "SFC-GAJ", "SFC-CRJ", "SFC-SJJ", "SFC-LSJ", "DC-SPJ", "XC-SPJ",
                    "DC-JD1"}
DEMO_ORGS = {"00250001", "00250002", "00250011", "00250012", "00250013", "00250014", "00250015", "00250021",
             "00250022", "00250031"}
DEMO_LICENCE_TYPES = {
    "YYZZ": ("SFC-SJJ", {"company_type", "registered_capital", "business_scope"}),
    "SPJY": ("SFC-SJJ", {"business_items", "premises"}),
}
ITEM_TYPES = {"XK", "QR", "JF", "JL", "CJ", "GG", "QT"}
PROCESSES = {"standard", "fast", "countersign"}


@cache
def data() -> dict:
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))


@cache
def contents() -> dict[str, ItemContent]:
    return {item["basic_code"]: ItemContent.model_validate(item["content"]) for item in data()["items"]}


def licence_types() -> dict[str, tuple[str, set[str]]]:
    types = dict(DEMO_LICENCE_TYPES)
    for t in data()["licence_types"]:
        types[t["code"]] = (t["department"], {f["key"] for f in t["field_template"]})
    return types


def test_top_level_shape():
    assert set(data()) == {"departments", "licence_types", "items", "bundles"}


@pytest.mark.parametrize("item", json.loads(CATALOGUE.read_text(encoding="utf-8"))["items"],
                         ids=lambda item: item["basic_code"])
def test_every_item_content_validates(item):
    content = ItemContent.model_validate(item["content"])
    assert BASIC_CODE.match(item["basic_code"])
    assert item["basic_code"][:2] == item["item_type"] in ITEM_TYPES
    assert re.fullmatch(r"\d{2}", item["business_item"])
    assert item["name"].strip()
    assert content.process in PROCESSES
    assert content.description and content.synonyms and content.legal_basis and content.acceptance_conditions
    assert "《" in content.legal_basis
    assert 2 <= len(content.materials) <= 8, item["name"]
    assert 2 <= len(content.fields) <= 8, item["name"]
    assert len(content.situations) <= 3
    if content.process == "fast":
        assert content.promised_limit_days == 0


def test_counts():
    items = data()["items"]
    assert len(items) >= 60
    assert len({i["department"] for i in items}) >= 12
    codes = [i["basic_code"] for i in items]
    assert len(codes) == len(set(codes))
    names = [i["name"] for i in items]
    assert len(names) == len(set(names))


def test_departments():
    known = DEMO_DEPARTMENTS | {d["code"] for d in data()["departments"]}
    for d in data()["departments"]:
        assert d["code"] not in DEMO_DEPARTMENTS
        assert d["level"] in {"national", "province", "city", "county", "township"}
        assert d["parent"] in {"SF-ZWJ", "SFC-ZWJ"}
        assert re.fullmatch(r"002500\d\d", d["org"]) and d["org"] not in DEMO_ORGS
    orgs = [d["org"] for d in data()["departments"]]
    assert len(orgs) == len(set(orgs))
    assert {i["department"] for i in data()["items"]} <= known


def test_licence_types():
    codes = [t["code"] for t in data()["licence_types"]]
    assert len(codes) == len(set(codes)) and not set(codes) & set(DEMO_LICENCE_TYPES)
    known = DEMO_DEPARTMENTS | {d["code"] for d in data()["departments"]}
    for t in data()["licence_types"]:
        assert re.fullmatch(r"[0-9A-Z]{2,20}", t["code"])
        assert t["holder_kind"] in {"person", "enterprise"}
        assert t["department"] in known
        assert t["validity_years"] is None or t["validity_years"] > 0
        keys = [f["key"] for f in t["field_template"]]
        assert len(keys) == len(set(keys))
        assert all(set(f) == {"key", "label", "required"} for f in t["field_template"])


def test_licence_results_match_their_type():
    types = licence_types()
    for item in data()["items"]:
        content = contents()[item["basic_code"]]
        if content.result.kind != "licence":
            continue
        department, template_keys = types[content.result.licence_type]
        assert department == item["department"], item["name"]
        assert template_keys <= {f.key for f in content.fields}, item["name"]


def test_materials_name_existing_licence_types():
    types = licence_types()
    for content in contents().values():
        for material in content.materials:
            if material.licence_type:
                assert material.source == "government"
                assert material.licence_type in types


def test_same_key_same_meaning():
    material_names, field_labels, questions = defaultdict(set), defaultdict(set), defaultdict(set)
    for content in contents().values():
        for situation in content.situations:
            questions[situation.key].add((situation.question, tuple((o.value, o.label) for o in situation.options)))
        for material in content.materials:
            material_names[material.key].add((material.name, material.source, material.licence_type))
        for field in content.fields:
            field_labels[field.key].add((field.label, field.type, field.prefill))
    assert {k: v for k, v in material_names.items() if len(v) > 1} == {}
    assert {k: v for k, v in field_labels.items() if len(v) > 1} == {}
    assert {k: v for k, v in questions.items() if len(v) > 1} == {}  # a bundle asks a shared question once


def test_realistic_mix():
    all_contents = list(contents().values())
    sources = Counter(m.source for c in all_contents for m in c.materials)
    assert sources["government"] >= 50 and sources["applicant"] >= 50
    assert sum(1 for c in all_contents if c.situations) >= 25
    assert sum(1 for c in all_contents if c.fee_total({}) > 0) >= 5
    assert sum(1 for c in all_contents if c.visits <= 1) >= 0.9 * len(all_contents)
    assert all(c.promised_limit_days <= c.legal_limit_days for c in all_contents)


def test_situations_switch_things():
    """Every situation decides something: a material, field, fee or follow-up question."""
    for code, content in contents().items():
        used = {clause.situation for thing in [*content.situations, *content.materials, *content.fields, *content.fees]
                if thing.condition for clause in thing.condition.all + thing.condition.any}
        assert {s.key for s in content.situations} <= used, code


def test_bundles():
    bundles = {b["code"]: b for b in data()["bundles"]}
    assert len(bundles) == 3 and {"KBQY", "CSYJS"} <= set(bundles)
    items = {i["basic_code"]: i for i in data()["items"]}
    for bundle in bundles.values():
        assert bundle["name"] and bundle["description"] and bundle["synonyms"]
        assert len(bundle["items"]) == len(set(bundle["items"])) >= 2
        assert set(bundle["items"]) <= set(items)
    for code in ("KBQY", "CSYJS"):
        assert len({items[c]["department"] for c in bundles[code]["items"]}) >= 4


def test_kbqy_is_the_four_department_enterprise_start():
    items = {i["basic_code"]: i for i in data()["items"]}
    kbqy = [items[c] for c in next(b for b in data()["bundles"] if b["code"] == "KBQY")["items"]]
    assert [i["department"] for i in kbqy] == ["SFC-SJJ", "SFC-GAJ", "SFC-SWJ", "SFC-RSJ"]
    first = contents()[kbqy[0]["basic_code"]]
    assert first.result.licence_type == "YYZZ"
    for later in kbqy[1:]:  # each later item reuses the licence the first one issues
        assert any(m.licence_type == "YYZZ" for m in contents()[later["basic_code"]].materials), later["name"]


def test_bundle_items_share_what_they_ask_for():
    """Within a bundle, a later item asks again for some fields or materials of earlier ones (asked once)."""
    for bundle in data()["bundles"]:
        seen: set[str] = set()
        shared = 0
        for code in bundle["items"]:
            content = contents()[code]
            keys = {f.key for f in content.fields} | {m.key for m in content.materials}
            shared += len(keys & seen)
            seen |= keys
        assert shared >= 4, bundle["code"]


def test_birth_bundle_reuses_the_birth_certificate():
    items = {i["basic_code"]: i for i in data()["items"]}
    codes = next(b for b in data()["bundles"] if b["code"] == "CSYJS")["items"]
    first = contents()[codes[0]]
    assert first.result.licence_type == "CSYXZM"
    assert items[codes[0]]["department"] != items[codes[1]]["department"]
    assert any(m.licence_type == "CSYXZM" for m in contents()[codes[1]].materials)
