import datetime

from ninja import Schema


class EntitlementIn(Schema):
    code: str
    name: str
    definition: dict


class EntitlementOut(Schema):
    code: str
    name: str
    department: str
    version: int
    active: bool

    @staticmethod
    def resolve_department(obj):
        return obj.department.name

    @staticmethod
    def resolve_version(obj):
        return obj.current_version


class GrantOut(Schema):
    id: int
    entitlement: str
    entitlement_name: str
    status: str
    tier: str
    amount: float
    unit: str
    starts_on: datetime.date
    person: str
    version: int
    case_number: str | None = None  # the one-stop case (办件编号) the grant is

    @staticmethod
    def resolve_case_number(obj):
        return obj.application.number if obj.application_id else None

    @staticmethod
    def resolve_entitlement(obj):
        return obj.entitlement.code

    @staticmethod
    def resolve_entitlement_name(obj):
        return obj.entitlement.name

    @staticmethod
    def resolve_person(obj):
        return obj.person.name


class DecisionOut(Schema):
    at: datetime.datetime
    kind: str
    rule_code: str
    rule_version: int
    qualified: bool
    failed: str
    leaves: list
    facts: dict
    messages: list


class GrantDetailOut(GrantOut):
    decisions: list[DecisionOut]

    @staticmethod
    def resolve_decisions(obj):
        return obj.decision_list


class RespondIn(Schema):
    accept: bool
    bank_name: str = ""
    bank_account: str = ""


class ReasonIn(Schema):
    reason: str = ""


class ScreenOut(Schema):
    screened: int
    candidates: int
    offered: int
    not_qualified: int
    rechecked: int
    ended: int


class InstantRulesIn(Schema):
    definition: dict


class TrialIn(Schema):
    definition: dict
    limit: int = 50


class TrialOut(Schema):
    cases: int
    would_approve: int
    rows: list[dict]


class RuleSetOut(Schema):
    id: int
    item: str
    item_name: str
    version: int
    active: bool


class ApprovalOut(Schema):
    id: int
    application: str
    item: str
    approved: bool
    failed_rule: str
    sampled: bool
    review_status: str
    seconds: float | None
    rule_version: int
    created_at: datetime.datetime

    @staticmethod
    def resolve_application(obj):
        return obj.application.number

    @staticmethod
    def resolve_item(obj):
        return obj.application.item.name

    @staticmethod
    def resolve_rule_version(obj):
        return obj.version


class ReviewIn(Schema):
    revoke: bool
    reason: str = ""


class PrereviewOut(Schema):
    id: int
    kind: str
    fields: dict
    problems: list[dict]
    engine: str
    ms: float


class MeasuresOut(Schema):
    grants: dict
    instant: dict
    submitted: int
    prereview: dict
    instant_share: float | None
    revocation_rate: float | None
    granted_without_application: int
