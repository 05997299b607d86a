import datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from .models import REUSED_SOURCES
from .selectors import form_values, sla_colour


class ItemOut(Schema):
    implementation_code: str
    basic_code: str
    name: str
    item_type: str
    item_type_label: str
    department: str
    version: int
    active: bool

    @staticmethod
    def resolve_item_type_label(obj):
        return obj.get_item_type_display()

    @staticmethod
    def resolve_department(obj):
        return obj.department.name

    @staticmethod
    def resolve_version(obj):
        return obj.current_version


class ItemDetail(ItemOut):
    content: dict


class ItemIn(Schema):
    basic_code: str
    business_item: str = "01"
    name: str = Field(min_length=2, max_length=200)
    item_type: str
    content: dict


class VersionIn(Schema):
    content: dict
    name: str | None = None
    active: bool | None = None


class BundleOut(Schema):
    code: str
    name: str
    description: str
    items: list[str]

    @staticmethod
    def resolve_items(obj):
        return [m.item.implementation_code for m in obj.members.all()]


class GuideHit(Schema):
    kind: Literal["item", "bundle"]
    code: str
    name: str
    department: str
    score: float


class PlanIn(Schema):
    answers: dict[str, Any] = {}
    enterprise_uscc: str | None = None


class PlannedMaterial(Schema):
    key: str
    name: str
    required: bool
    reuse: str | None  # how the platform provides it, or None when the applicant must supply it
    reuse_label: str | None
    provided_by_item: str | None = None


class PlanOut(Schema):
    situations: list[dict]
    fields: list[dict]
    prefill: dict[str, str]
    materials: list[PlannedMaterial]
    fee_total: Decimal
    promised_limit_days: int | None = None
    visits: int | None = None


class StoredOut(Schema):
    id: int
    key: str
    name: str
    size: int
    trust_level: str
    created_at: datetime.datetime


class ApplyIn(Schema):
    item: str  # implementation code
    answers: dict[str, Any] = {}
    form_data: dict[str, Any] = {}
    materials: dict[str, int] = {}  # material key → stored material id (uploaded first)
    channel: Literal["online", "window", "kiosk", "mobile"] = "online"
    enterprise_uscc: str | None = None
    agent_name: str = ""
    agent_id_number: str = ""
    draft: bool = False
    consent_exchange: bool = False  # the applicant agrees that documents of other departments are fetched


class BundleApplyIn(Schema):
    answers: dict[str, Any] = {}
    form_data: dict[str, Any] = {}
    materials: dict[str, int] = {}
    channel: Literal["online", "window", "kiosk", "mobile"] = "online"
    enterprise_uscc: str | None = None


class ApplicationOut(Schema):
    number: str
    item: str
    item_name: str
    department: str
    applicant_name: str
    channel: str
    state: str
    state_label: str
    fee_total: Decimal
    due_on: datetime.date | None
    submitted_at: datetime.datetime | None
    sla: str

    @staticmethod
    def resolve_item(obj):
        return obj.item.implementation_code

    @staticmethod
    def resolve_item_name(obj):
        return obj.item.name

    @staticmethod
    def resolve_department(obj):
        return obj.department.name

    @staticmethod
    def resolve_state_label(obj):
        return obj.get_state_display()

    @staticmethod
    def resolve_sla(obj):
        return sla_colour(obj) or "none"


class StepOut(Schema):
    step: str
    action: str
    opinion: str
    actor_name: str
    state_after: str
    started_at: datetime.datetime
    ended_at: datetime.datetime


class MaterialOut(Schema):
    key: str
    name: str
    required: bool
    source: str
    source_label: str
    trust_level: str
    reused: bool

    @staticmethod
    def resolve_source_label(obj):
        return obj.get_source_display()

    @staticmethod
    def resolve_reused(obj):
        return obj.source in REUSED_SOURCES


class NoticeOut(Schema):
    number: str
    kind: str
    title: str
    issued_at: datetime.datetime

    @staticmethod
    def resolve_title(obj):
        return obj.get_kind_display()


class ApplicationCreated(ApplicationOut):
    """The answer to a submission: the case and how each material was provided (reused or uploaded)."""

    materials: list[MaterialOut]

    @staticmethod
    def resolve_materials(obj):
        return list(obj.materials.all())


class ApplicationDetail(ApplicationOut):
    form_data: dict
    answers: dict
    decision_reason: str
    result_licence: str | None
    steps: list[StepOut]
    materials: list[MaterialOut]
    notices: list[NoticeOut]

    @staticmethod
    def resolve_form_data(obj):
        return form_values(obj)  # ID numbers masked

    @staticmethod
    def resolve_result_licence(obj):
        return obj.result_licence.identifier if obj.result_licence_id else None

    @staticmethod
    def resolve_steps(obj):
        return list(obj.steps.all())

    @staticmethod
    def resolve_materials(obj):
        return list(obj.materials.all())

    @staticmethod
    def resolve_notices(obj):
        return list(obj.notices.all())


class SubmissionOut(Schema):
    id: int
    bundle: str
    fee_total: Decimal
    applications: list[ApplicationOut]

    @staticmethod
    def resolve_bundle(obj):
        return obj.bundle.code

    @staticmethod
    def resolve_applications(obj):
        return list(obj.applications.select_related("item", "department", "instance").order_by("id"))


class ActionIn(Schema):
    opinion: str = ""
    outcome: Literal["approve", "reject"] | None = None
    materials: list[str] | dict[str, int] = []
    kind: str = ""
    method: str = ""
    detail: str = ""


class EvaluationIn(Schema):
    grade: int = Field(ge=1, le=5)
    comment: str = ""
    visit: int = 0


class EvaluationOut(Schema):
    id: int
    grade: int
    grade_label: str
    ticket: int | None

    @staticmethod
    def resolve_grade_label(obj):
        return obj.get_grade_display()

    @staticmethod
    def resolve_ticket(obj):
        ticket = getattr(obj, "ticket", None)
        return ticket.pk if ticket else None


class TicketOut(Schema):
    id: int
    application: str
    item: str
    department: str
    grade: int
    comment: str
    due_on: datetime.date
    status: str
    reply: str
    follow_up: str

    @staticmethod
    def resolve_application(obj):
        return obj.evaluation.application.number

    @staticmethod
    def resolve_item(obj):
        return obj.evaluation.item.name

    @staticmethod
    def resolve_department(obj):
        return obj.department.name

    @staticmethod
    def resolve_grade(obj):
        return obj.evaluation.grade

    @staticmethod
    def resolve_comment(obj):
        return obj.evaluation.comment


class TextIn(Schema):
    text: str
