"""Demo data for the one-stop service (called by ``smartgov demo``; safe to run twice).

Loads the catalogue in ``data/catalogue.json`` (departments, licence types, ≥ 60 items, 3 life-event
bundles), gives every implementing department an officer and a head, puts a checked material in the
demo citizen's library, and makes demo cases in every state through the real services.
"""

import datetime
import json
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from smartgov.accounts.models import Department, User
from smartgov.accounts.services import create_department, create_user, grant_supervision
from smartgov.core.errors import DomainError
from smartgov.core.permissions import Role, system_actor
from smartgov.core.validators import org_code_check_char, uscc_check_char
from smartgov.exchange import selectors as exchange_selectors
from smartgov.exchange import services as exchange
from smartgov.identity.models import Enterprise
from smartgov.licences.models import LicenceType
from smartgov.licences.services import create_licence_type
from smartgov.workflow.services import ensure_standard_processes

from . import selectors, services
from .models import Application, Bundle, ServiceItem, State, StoredMaterial
from .selectors import MEASURES_DOMAIN

DATA = Path(__file__).parent / "data" / "catalogue.json"
DEMO_CITIZEN = "zhangsan"


def load_catalogue(data: dict, *, stdout=None) -> dict:
    """Create what is missing of a catalogue file (departments, licence types, items, bundles)."""
    ensure_standard_processes()
    made = {"departments": 0, "items": 0, "bundles": 0}
    by_code = {d.code: d for d in Department.objects.all()}
    for d in data.get("departments", []):
        if d["code"] not in by_code:
            body = "11330100" + d["org"] + org_code_check_char(d["org"])
            by_code[d["code"]] = create_department(actor=system_actor("onestop.demo"), name=d["name"], code=d["code"], level=d["level"],
                                                   parent=by_code.get(d.get("parent")),
                                                   uscc=body + uscc_check_char(body))
            made["departments"] += 1
    for t in data.get("licence_types", []):
        if not LicenceType.objects.filter(code=t["code"]).exists():
            create_licence_type(actor=system_actor("onestop.demo"), name=t["name"], code=t["code"], department=by_code[t["department"]],
                                holder_kind=t["holder_kind"], validity_years=t.get("validity_years"),
                                field_template=t.get("field_template", []))
    existing = {(i.department_id, i.basic_code) for i in ServiceItem.objects.all()}
    items = {}
    for it in data["items"]:
        dept = by_code[it["department"]]
        if (dept.pk, it["basic_code"]) not in existing:
            items[it["basic_code"]] = services.create_item(
                actor=system_actor("onestop.demo"), department=dept, basic_code=it["basic_code"], name=it["name"], item_type=it["item_type"],
                business_item=it.get("business_item", "01"), content=it["content"])
            made["items"] += 1
    for item in ServiceItem.objects.all():
        items.setdefault(item.basic_code, item)
    for b in data.get("bundles", []):
        if not Bundle.objects.filter(code=b["code"]).exists():
            services.create_bundle(actor=system_actor("onestop.demo"), code=b["code"], name=b["name"], description=b.get("description", ""),
                                   synonyms=b.get("synonyms", []), items=[items[c] for c in b["items"]])
            made["bundles"] += 1
    return made


def staff_for(dept) -> tuple[User, User]:
    """The department's demo officer and head (created on first use)."""
    password = settings.DEMO_PASSWORD
    base = dept.code.lower().replace("-", "_")
    officer = User.objects.filter(department=dept, role=Role.OFFICER).order_by("id").first() or create_user(
        actor=system_actor("onestop.demo"), username=f"{base}_officer", password=password, role=Role.OFFICER,
        name=f"{dept.name[:12]}窗口", department=dept)
    chief = User.objects.filter(department=dept, role=Role.DEPT_ADMIN).order_by("id").first() or create_user(
        actor=system_actor("onestop.demo"), username=f"{base}_chief", password=password, role=Role.DEPT_ADMIN,
        name=f"{dept.name[:12]}负责人", department=dept)
    return officer, chief


def _pdf(label: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"{label}.pdf", f"%PDF-1.4\n% SmartGov demo material: {label}\n".encode(),
                              "application/pdf")


def _form_for(citizen, content, answers, enterprise) -> dict:
    values = selectors.prefill(citizen, content, answers, enterprise=enterprise)
    for f in content.fields_for(answers):
        if values.get(f.key):
            continue
        values[f.key] = {"number": "1", "date": "2026-12-01", "choice": (f.choices or [""])[0],
                         "phone": citizen.person.phone or "13812345678", "id_number": citizen.person.id_number,
                         "uscc": enterprise.uscc if enterprise else ""}.get(f.type, f"{f.label}（演示）")
    return values


def _answers(content) -> dict:
    return {s.key: s.options[-1].value if s.key == "premises_owned" else s.options[0].value
            for s in content.situations}


# state → the officer actions that lead there from a fresh submission
PATHS = {
    State.SUBMITTED: [],
    State.PREREVIEW: ["prereview"],
    State.SUPPLEMENT: ["prereview", "supplement"],
    State.NOT_ACCEPTED: ["prereview", "not_accept"],
    State.ACCEPTED: ["prereview", "accept"],
    State.REVIEW: ["prereview", "accept", "review"],
    State.REJECTED: ["prereview", "accept", "reject"],
    State.APPROVED: ["prereview", "accept", "approve_all"],
    State.ISSUED: ["prereview", "accept", "approve_all", "issue"],
    State.DELIVERED: ["prereview", "accept", "approve_all", "issue", "deliver"],
    State.CLOSED: ["prereview", "accept", "approve_all", "issue", "deliver", "close"],
}


def _drive(app, officer, chief, steps) -> None:
    for step in steps:
        app.refresh_from_db()
        match step:
            case "prereview":
                services.start_prereview(actor=officer, application=app)
            case "supplement":
                key = app.materials.values_list("key", flat=True).first()
                services.request_supplement(actor=officer, application=app, materials=[key],
                                            opinion="材料页面不清晰，请重新上传")
            case "not_accept":
                services.not_accept(actor=officer, application=app, reason="申请事项不属于本机关职权范围")
            case "accept":
                services.accept(actor=officer, application=app)
            case "review":
                services.review(actor=officer, application=app, outcome="approve", opinion="材料齐全，符合条件")
            case "reject":
                services.review(actor=officer, application=app, outcome="reject", opinion="不符合法定条件")
            case "approve_all":
                while app.state in (State.ACCEPTED, State.REVIEW):
                    actor = officer if selectors.is_actionable(officer, app) else chief
                    services.review(actor=actor, application=app, outcome="approve", opinion="同意")
                    app.refresh_from_db()
            case "issue":
                services.issue_result(actor=officer, application=app)
            case "deliver":
                services.deliver(actor=officer, application=app, method="electronic")
            case "close":
                services.close(actor=officer, application=app)


def _demo_cases(citizen, stdout) -> int:
    enterprise = Enterprise.objects.filter(legal_representative=citizen.person).order_by("id").first()
    library = {}

    def stored(key, name):
        if key not in library:
            library[key] = services.store_material(actor=citizen, key=key, name=name, upload=_pdf(name))
        return library[key]

    made = 0
    candidates = (ServiceItem.objects.filter(active=True).exclude(item_type="XK", basic_code="XK00101000")
                  .select_related("department").order_by("basic_code"))
    states = [*PATHS, State.WITHDRAWN, State.DRAFT]
    pool = iter(candidates)
    for state in states:
        for item in pool:  # the next item the demo citizen can apply for with what they have
            content = selectors.current_version(item).parsed
            answers = _answers(content)
            uses_enterprise = any(f.prefill and f.prefill.startswith("enterprise.") for f in content.fields)
            ent = enterprise if uses_enterprise else None
            plan = selectors.reuse_plan(citizen, content, answers, enterprise=ent)
            needed = content.materials_for(answers)
            if all(m.key in plan or m.source == "applicant" or not m.required for m in needed):
                break
        else:
            break
        materials = {m.key: stored(m.key, m.name).pk for m in needed if m.key not in plan and m.source == "applicant"}
        app = services.apply(actor=citizen, item=item, answers=answers, form_data=_form_for(citizen, content,
                             answers, ent), materials=materials, enterprise_uscc=ent.uscc if ent else None,
                             draft=state == State.DRAFT, consent_exchange=True)  # the demo citizen consents
        officer, chief = staff_for(item.department)
        if state == State.WITHDRAWN:
            services.withdraw(actor=citizen, application=app, reason="信息填错，重新申请")
        elif state != State.DRAFT:
            _drive(app, officer, chief, PATHS[state])
        made += 1
    # 好差评: a satisfied applicant, and a dissatisfied one whose comment opens a rectification ticket
    for state, grade, comment in ((State.CLOSED, 5, "全程网办，一次没跑"), (State.REJECTED, 2, "不予办理的理由没有讲清楚"),
                                  (State.DELIVERED, 4, "")):
        app = Application.objects.filter(applicant_user=citizen, state=state).first()
        if app is not None:
            services.evaluate(actor=citizen, application=app, grade=grade, comment=comment)
    # a material checked at the window: reused at trust level B in the next applications
    first = StoredMaterial.objects.filter(owner_user=citizen).order_by("id").first()
    if first is not None:
        officer, _ = staff_for(Department.objects.get(code="SFC-SJJ"))
        services.check_material(actor=officer, stored=first)
    return made


def _exchange_agreements() -> None:
    """Each department whose items name an exchange resource (材料复用 through the exchange) gets an
    agreement for it, applied for and approved through the exchange's services."""
    actor = system_actor("demo")
    wanted = set()
    for item in selectors.with_current_versions(ServiceItem.objects.select_related("department")):
        for m in item._current.parsed.materials:
            if m.resource and m.resource in exchange_selectors.resource_labels([m.resource]):
                wanted.add((item.department, m.resource))
    for department, code in sorted(wanted, key=lambda w: (w[0].code, w[1])):
        resource, content = exchange_selectors.get_resource(actor, code)
        if resource.department_id == department.pk or exchange_selectors.agreements_for(actor).filter(
                resource=resource, consumer=department).exists():
            continue
        try:
            ag = exchange.apply_for_resource(
                actor=actor, consumer=department, resource=resource, purpose="一网通办材料复用：办理事项时调取申请材料",
                legal_basis=f"{content.legal_basis}；申请人授权", fields=content.item_keys(),
                clear_fields=sorted(content.personal_keys()), rate_limit=600,
                valid_until=timezone.localdate() + datetime.timedelta(days=365))
            if ag.status == "pending":
                exchange.approve_agreement(actor=actor, agreement=ag, reason="一网通办材料复用")
        except DomainError:
            continue  # e.g. a resource that is not shared: the material stays an upload
def _demo_supervision() -> None:
    """The city's 政务服务和数据管理局 supervises the service measures of every city department (the
    market regulator, public security and tax report up their own lines, so they are not below it)."""
    bureau = Department.objects.filter(code="SFC-ZWJ").first()
    if bureau is None:
        return
    for dept in Department.objects.filter(code__startswith="SFC-", parent__isnull=False).exclude(
            path__startswith=bureau.path):
        if dept.parent.code.startswith("SFC-") and not dept.path.startswith(bureau.path):
            continue  # below a city department already supervised (e.g. 出入境 under 公安局)
        grant_supervision(actor=system_actor("onestop.demo"), supervisor=bureau, supervised=dept, domain=MEASURES_DOMAIN)


def load_demo(*, stdout) -> None:
    with transaction.atomic():
        made = load_catalogue(json.loads(DATA.read_text(encoding="utf-8")), stdout=stdout)
        _exchange_agreements()
        for dept_id in ServiceItem.objects.values_list("department_id", flat=True).distinct():
            staff_for(Department.objects.get(pk=dept_id))
        _demo_supervision()
        citizen = User.objects.filter(username=DEMO_CITIZEN).select_related("person").first()
        cases = 0
        if citizen is not None and getattr(citizen, "person", None) and not Application.objects.filter(
                applicant_user=citizen).exists():
            cases = _demo_cases(citizen, stdout)
    stdout.write(f"一网通办：新建 {made['departments']} 个部门、{made['items']} 个事项、{made['bundles']} 个一件事、"
                 f"{cases} 个演示办件。")
