"""What the one-stop pages share: labels and badge tones, reading the posted answers and form, the rows
the templates show, uploads into the material library, and error messages from the services."""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from smartgov.core.errors import DomainError, NotFound
from smartgov.core.masking import mask_id_number
from smartgov.core.permissions import has_perm
from smartgov.workflow import selectors as wf_selectors

from .. import hooks, selectors, services
from ..models import Application, ServiceItem, State, StoredMaterial

# Choice labels of the models and step names of the services are Chinese data; the templates show them
# with {% translate %} so the English catalogue can name them (kept here so makemessages finds them).
RUNTIME_LABELS = (
    gettext_noop("草稿"), gettext_noop("已提交待预审"), gettext_noop("预审中"), gettext_noop("待补正"), gettext_noop("已受理"),
    gettext_noop("不予受理"), gettext_noop("审查中"), gettext_noop("准予办理"), gettext_noop("不予办理"), gettext_noop("已出证"),
    gettext_noop("已送达"), gettext_noop("已办结"), gettext_noop("已撤回"), gettext_noop("本次上传"), gettext_noop("材料库复用"),
    gettext_noop("电子证照复用"), gettext_noop("政府数据共享"), gettext_noop("一件事内前序结果"), gettext_noop("窗口收取纸质件"),
    gettext_noop("未提供"), gettext_noop("A 电子证照/政府数据"), gettext_noop("B 窗口核验原件"), gettext_noop("C 申请人上传"),
    gettext_noop("D 未核验/承诺"), gettext_noop("非常满意"), gettext_noop("满意"), gettext_noop("基本满意"), gettext_noop("不满意"),
    gettext_noop("非常不满意"), gettext_noop("待整改"), gettext_noop("已整改待回访"), gettext_noop("已回访办结"), gettext_noop("网上办"),
    gettext_noop("窗口办"), gettext_noop("自助终端"), gettext_noop("掌上办"), gettext_noop("受理通知书"), gettext_noop("不予受理通知书"),
    gettext_noop("补正材料通知书"), gettext_noop("办理结果通知书"), gettext_noop("行政许可"), gettext_noop("行政确认"),
    gettext_noop("行政给付"), gettext_noop("行政奖励"), gettext_noop("行政裁决"), gettext_noop("公共服务"), gettext_noop("其他行政权力"),
    gettext_noop("申请"), gettext_noop("预审"), gettext_noop("一次性告知补正"), gettext_noop("补正材料"), gettext_noop("受理"),
    gettext_noop("审查"), gettext_noop("特别程序"), gettext_noop("特别程序结束"), gettext_noop("出证"), gettext_noop("送达"),
    gettext_noop("办结"), gettext_noop("撤回"), gettext_noop("决定"), gettext_noop("听证"), gettext_noop("专家评审"),
    gettext_noop("现场核查"), gettext_noop("检验检测"), gettext_noop("电子送达"), gettext_noop("邮寄送达"), gettext_noop("窗口自取"),
)

# state → badge colour (the shared ``.tag`` classes plus the few in onestop/_style.html)
STATE_TONE = {
    State.DRAFT: "soon", State.SUBMITTED: "", State.PREREVIEW: "", State.SUPPLEMENT: "warn",
    State.ACCEPTED: "", State.NOT_ACCEPTED: "bad", State.REVIEW: "", State.APPROVED: "ok",
    State.REJECTED: "bad", State.ISSUED: "ok", State.DELIVERED: "ok", State.CLOSED: "ok", State.WITHDRAWN: "soon",
}
COLOUR_TONE = {"green": "ok", "yellow": "yellow", "red": "red", "paused": "paused", "done": "soon"}
# the evaluation form is offered once the case has an outcome (the service itself accepts any submitted case)
EVALUATE_STATES = frozenset({State.NOT_ACCEPTED, State.REJECTED, State.ISSUED, State.DELIVERED, State.CLOSED})
OFFICER_ACTIONS = [a for a in services.TRANSITIONS if a not in services.APPLICANT_ACTIONS]
DEPTH_LABELS = {1: gettext_noop("一级 信息发布"), 2: gettext_noop("二级 在线咨询"), 3: gettext_noop("三级 在线预审"),
                4: gettext_noop("四级 全程网办")}
VISIT_LABELS = {0: gettext_noop("零跑动"), 1: gettext_noop("最多跑一次"), 2: gettext_noop("跑两次")}
FIELD_INPUTS = {"text": "text", "number": "number", "date": "date", "phone": "tel", "id_number": "text",
                "uscc": "text"}


def item_or_404(code: str) -> ServiceItem:
    item = selectors.active_item(code)
    if item is None:
        raise NotFound(_("没有这个事项"), code="item_not_found")
    return item


def is_applicant(user) -> bool:
    return has_perm(user, "onestop.apply")


def answers_from(data, situations) -> dict:
    """Answers as posted: radio ``answers.<key>`` (checkboxes for a multiple-choice situation)."""
    answers = {}
    for s in situations:
        name = f"answers.{s.key}"
        if s.multiple:
            values = [v for v in data.getlist(name) if v]
            if values:
                answers[s.key] = values
        elif value := (data.get(name) or "").strip():
            answers[s.key] = value
    return answers


def question_rows(situations, answers: dict, errors: dict | None = None) -> list[dict]:
    out = []
    for s in situations:
        chosen = answers.get(s.key)
        chosen = chosen if isinstance(chosen, list) else [chosen]
        out.append({"key": s.key, "question": s.question, "multiple": s.multiple,
                    "error": (errors or {}).get(f"answers.{s.key}", ""),
                    "options": [{"value": o.value, "label": o.label, "checked": o.value in chosen}
                                for o in s.options]})
    return out


def field_rows_for(fields, values: dict, errors: dict | None = None) -> list[dict]:
    rows = []
    for f in fields:
        widget = "textarea" if f.type == "textarea" else "select" if f.type == "choice" else "input"
        rows.append({"key": f.key, "label": f.label, "type": f.type, "required": f.required, "widget": widget,
                     "input_type": FIELD_INPUTS.get(f.type, "text"), "choices": f.choices,
                     "prefilled": bool(f.prefill), "value": values.get(f.key, ""),
                     "display": mask_id_number(values.get(f.key, "")) if f.type == "id_number" else values.get(f.key, ""),
                     "error": (errors or {}).get(f.key, "")})
    return rows


def material_rows_for(materials, plan: dict, errors: dict | None = None) -> list[dict]:
    """Materials with what the platform attaches (复用) and what must be uploaded.
    ``materials`` are ``(Material, producing_item_or_None)`` pairs."""
    rows = []
    for m, producer in materials:
        reuse = plan.get(m.key)
        rows.append({"key": m.key, "name": m.name, "required": m.required, "note": m.note, "form": m.form,
                     "copies": m.copies, "producer": producer, "reuse": reuse,
                     "needs_upload": producer is None and reuse is None,
                     "error": (errors or {}).get(f"materials.{m.key}", "")})
    return rows


def form_values(data, fields) -> dict:
    return {f.key: (data.get(f"field.{f.key}") or "").strip() for f in fields}


def kept_values(data, fields, prefill: dict) -> dict:
    """What the applicant typed (kept on re-render); register values for fields new to the form."""
    return {f.key: data[f"field.{f.key}"].strip() if f"field.{f.key}" in data else prefill.get(f.key, "")
            for f in fields}


def represented_enterprises(user) -> list:
    person = getattr(user, "person", None)
    return list(person.represents.order_by("name")) if person is not None else []


def enterprise_from(user, uscc: str):
    uscc = (uscc or "").strip().upper()
    return next((e for e in represented_enterprises(user) if e.uscc == uscc), None) if uscc else None


def store_uploads(request, rows: list[dict]) -> tuple[dict[str, int], dict[str, str]]:
    """Keep each uploaded file in the applicant's material library; return ``{key: stored.pk}`` and errors."""
    stored, errors = {}, {}
    for row in rows:
        upload = request.FILES.get(f"materials.{row['key']}")
        if upload is None or row["producer"] is not None:
            continue
        try:
            stored[row["key"]] = services.store_material(actor=request.user, key=row["key"], name=row["name"],
                                                         upload=upload).pk
        except DomainError as exc:
            errors[f"materials.{row['key']}"] = exc.message
    return stored, errors


def detail_errors(exc: DomainError) -> dict[str, str]:
    return {str(k): str(v) for k, v in exc.detail.items()} if isinstance(exc.detail, dict) else {}


def stray_errors(errors: dict, known: set[str]) -> list[str]:
    """Messages for keys the form does not show (so nothing the service said is lost)."""
    return [v for k, v in errors.items() if k not in known]


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def decorate(apps) -> list[Application]:
    for app in apps:
        app.tone = STATE_TONE.get(app.state, "")
        app.colour = selectors.sla_colour(app)
        app.colour_tone = COLOUR_TONE.get(app.colour or "", "")
        app.colour_label = wf_selectors.COLOUR_LABELS.get(app.colour, "") if app.colour else ""
    return apps


# --- 智能预审 of uploads on the application form (the reviewer is another app's, through ``hooks``) ------

def expected_for_review(user, fields, values: dict, enterprise, *, person=None) -> dict:
    """What an uploaded ID card or licence should say: the form's values where the applicant filled them
    (the fields that carry a name, an ID number, a USCC), else the register's — the signed-in applicant's
    record, or ``person`` (the walk-in applicant whose ID card the window officer checked)."""
    person = person if person is not None else getattr(user, "person", None)
    typed: dict[str, str] = {}
    for f in fields:
        value = (values.get(f.key) or "").strip()
        if not value:
            continue
        if f.prefill == "person.name":
            typed.setdefault("name", value)
        elif f.prefill == "person.id_number" or f.type == "id_number":
            typed.setdefault("id_number", value.upper())
        elif f.prefill == "enterprise.uscc" or f.type == "uscc":
            typed.setdefault("uscc", value.upper())
        elif f.prefill == "enterprise.name":
            typed.setdefault("enterprise_name", value)
    register = {"name": person.name if person else user.name, "id_number": person.id_number if person else "",
                "uscc": enterprise.uscc if enterprise else "", "enterprise_name": enterprise.name if enterprise else ""}
    return {k: typed.get(k) or v for k, v in register.items()}


def posted_uploads(user, data, rows: list[dict]) -> dict[str, StoredMaterial]:
    """Files already uploaded (and pre-reviewed) while the form was filled: ``stored.<key>`` → the
    applicant's own library file."""
    wanted = {r["key"]: data.get(f"stored.{r['key']}", "") for r in rows}
    own = selectors.own_stored_materials(user, [v for v in wanted.values() if v])
    return {k: own[int(v)] for k, v in wanted.items() if v.isdigit() and int(v) in own}


def with_uploads(rows: list[dict], upload_url, uploaded: dict[str, StoredMaterial]) -> list[dict]:
    """Each upload row gets its pre-review URL (``upload_url(key)``: the file is read as soon as it is
    chosen), the file kept so far and that file's pre-review."""
    reviews = hooks.material_reviews([s.pk for s in uploaded.values()]) if uploaded else {}
    keys = [r["key"] for r in rows]
    for row in rows:
        others = [f"materials.{k}" for k in keys if k != row["key"]]
        row["upload_url"] = upload_url(row["key"])
        row["upload_params"] = "not " + ",".join(others) if others else "*"
        stored = uploaded.get(row["key"])
        if stored is not None:
            row["uploaded"] = {"stored_id": stored.pk, "name": stored.name}
            row["review"] = reviews.get(stored.pk)
    return rows


def item_upload_url(code: str):
    return lambda key: reverse("onestop:apply_material", args=[code, key])


def bundle_upload_url(code: str):
    return lambda key: reverse("onestop:bundle_material", args=[code, key])


def counter_upload_url(key: str) -> str:
    return reverse("onestop:counter_material", args=[key])


def reviewed_upload(request, *, row: dict, material, keys: list[str], uploaded: dict, upload_url, store,
                    expected) -> dict:
    """智能预审 of the file just chosen for one material (the single-item form, the 一件事 form and the
    window's intake form answer the same way): keep it through ``store(upload)`` (a service call), have
    the registered reviewer read it against ``expected()`` and give back that material's upload row —
    the file kept, its problems in plain Chinese — for ``onestop/_material_upload.html``. Bad files
    (type, size, empty) are named on the row with their code and nothing is kept (``upload_status``)."""
    key = row["key"]
    upload = request.FILES.get(f"materials.{key}")
    review = None
    if upload is not None:
        try:
            stored = store(upload)
        except DomainError as exc:
            row["error"], row["error_code"] = exc.message, exc.code
        else:
            uploaded = {key: stored}
            review = hooks.review_material(actor=request.user, stored=stored, material_name=material.name,
                                           expected=expected())
    [row] = with_uploads([row], upload_url, uploaded)
    row["upload_params"] = "not " + ",".join(f"materials.{k}" for k in keys if k != key) if len(keys) > 1 else "*"
    if upload is not None and review is not None:
        row["review"] = review
    return row


def upload_status(request, row: dict) -> int:
    """A refused file is bad input (422) — except to htmx, which swaps only a 2xx answer into the form:
    there the row itself says what is wrong (with its code), beside the material."""
    return 422 if row.get("error") and not is_htmx(request) else 200
