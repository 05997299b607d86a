"""The shape of one catalogue item's content (要素): situations, materials, fields, fees and result.

An item version stores this content as JSON, validated here, so a published version is an immutable
snapshot: an application keeps the version it was made under (``ItemVersion``).

Codes (GB/T 39554.1 — 政务服务事项基本目录及实施清单 编码要求; the layout below follows the
provincial rule DB52/T 1264-2018, the national text was not at hand):
- basic code (基本编码), 10 characters: 2-letter item type (``ItemType``) + 5-digit main item +
  3-digit sub item (``000`` when there is none), e.g. ``XK00101000``;
- implementation code (实施编码), 30 characters: the implementing department's unified social credit
  code (18) + the basic code (10) + a 2-digit business handling item (业务办理项), e.g.
  ``11330102MB0000000X`` + ``XK00101000`` + ``01``.
"""

import re
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

BASIC_CODE = re.compile(r"^[A-Z]{2}\d{8}$")
IMPLEMENTATION_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}[A-Z]{2}\d{10}$")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
SEALED_TYPES = frozenset({"id_number", "phone"})  # field types whose values are personal data


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Clause(_Strict):
    """One test on the applicant's answers: situation ``situation``'s answer is one of ``in_``."""

    situation: str
    in_: list[str] = Field(alias="in", min_length=1)


class Condition(_Strict):
    """``all`` clauses must hold (AND) and, if ``any`` is given, at least one of them (OR)."""

    all: list[Clause] = []
    any: list[Clause] = []

    def holds(self, answers: dict[str, object]) -> bool:
        def test(clause: Clause) -> bool:
            answer = answers.get(clause.situation)
            values = answer if isinstance(answer, list) else [answer]
            return any(str(v) in clause.in_ for v in values if v is not None)

        return all(test(c) for c in self.all) and (not self.any or any(test(c) for c in self.any))


class Option(_Strict):
    value: str
    label: str


class Situation(_Strict):
    """情形: a question whose answer decides which materials, fields, fees and steps apply."""

    key: str
    question: str
    options: list[Option] = Field(min_length=2)
    multiple: bool = False
    condition: Condition | None = None  # asked only when this holds (follow-up questions)


class Material(_Strict):
    """申请材料. ``source="government"`` marks a material the government itself issued (a licence of
    type ``licence_type``, or a register record): the platform attaches it instead of asking for it."""

    key: str
    name: str
    required: bool = True
    form: Literal["electronic", "paper", "both"] = "electronic"
    source: Literal["applicant", "government"] = "applicant"
    licence_type: str | None = None  # LicenceType.code that satisfies this material (材料复用)
    resource: str | None = None  # exchange resource code whose document satisfies it (材料复用 through the exchange)
    copies: int = Field(1, ge=0, le=20)
    blank_form: str = ""  # 空白表格 (file name or URL under /static)
    sample: str = ""  # 示例样表
    note: str = ""
    condition: Condition | None = None


class FormField(_Strict):
    """A field of the application form. ``prefill`` names a register value copied into it."""

    key: str
    label: str
    type: Literal["text", "textarea", "number", "date", "choice", "id_number", "phone", "uscc"] = "text"
    required: bool = True
    choices: list[str] = []
    prefill: Literal["person.name", "person.id_number", "person.phone", "person.address",
                     "enterprise.name", "enterprise.uscc", "enterprise.address", None] = None
    condition: Condition | None = None


class Fee(_Strict):
    name: str
    amount: Decimal = Field(ge=0, max_digits=12, decimal_places=2)  # 元
    basis: str = ""  # 收费依据
    condition: Condition | None = None


class Result(_Strict):
    """办理结果: an e-licence (``licence_type``: a LicenceType code) or a signed document."""

    kind: Literal["licence", "document"]
    name: str
    licence_type: str | None = None
    # 设立登记: approving the item registers a new enterprise (named by the form's ``enterprise_name``)
    # in the legal-person register, and the licence is issued to it.
    registers_enterprise: bool = False

    @model_validator(mode="after")
    def _licence_needs_type(self):
        if self.kind == "licence" and not self.licence_type:
            raise ValueError("a licence result names its licence_type")
        return self


class ItemContent(_Strict):
    """Everything about an item that can change from one version to the next."""

    description: str = ""
    synonyms: list[str] = []  # words citizens use (for the smart guide)
    legal_basis: str = ""  # 设定依据
    acceptance_conditions: str = ""  # 受理条件
    legal_limit_days: int = Field(ge=0, le=365)  # 法定办结时限（工作日）
    promised_limit_days: int = Field(ge=0, le=365)  # 承诺办结时限（工作日）
    visits: Literal[0, 1, 2] = 1  # 到办事现场次数
    online_depth: Literal[1, 2, 3, 4] = 4  # 网办深度：一级 信息发布 … 四级 全程网办
    online: bool = True
    fees: list[Fee] = []
    result: Result
    where: str = ""  # 办理地点
    hours: str = ""  # 办理时间
    situations: list[Situation] = []
    materials: list[Material] = []
    fields: list[FormField] = []
    process: str = "standard"  # workflow process code (审查/决定 steps)

    @field_validator("situations", "materials", "fields")
    @classmethod
    def _unique_keys(cls, value):
        keys = [v.key for v in value]
        bad = [k for k in keys if not KEY.match(k)]
        if bad:
            raise ValueError(f"keys must be lower_snake_case: {bad}")
        if len(keys) != len(set(keys)):
            raise ValueError(f"duplicate keys: {sorted({k for k in keys if keys.count(k) > 1})}")
        return value

    @model_validator(mode="after")
    def _consistent(self):
        if self.promised_limit_days > self.legal_limit_days:
            raise ValueError("the promised time limit cannot exceed the legal one")
        known = {s.key: {o.value for o in s.options} for s in self.situations}
        for thing in [*self.situations, *self.materials, *self.fields, *self.fees]:
            cond = thing.condition
            for clause in (cond.all + cond.any) if cond else []:
                if clause.situation not in known:
                    raise ValueError(f"condition names unknown situation {clause.situation!r}")
                if unknown := set(clause.in_) - known[clause.situation]:
                    raise ValueError(f"condition on {clause.situation!r} names unknown answers {sorted(unknown)}")
        return self

    # -- what applies for a given set of answers ------------------------------------------------

    def applies(self, thing, answers: dict[str, object]) -> bool:
        return thing.condition is None or thing.condition.holds(answers)

    def situations_for(self, answers) -> list[Situation]:
        return [s for s in self.situations if self.applies(s, answers)]

    def materials_for(self, answers) -> list[Material]:
        return [m for m in self.materials if self.applies(m, answers)]

    def fields_for(self, answers) -> list[FormField]:
        return [f for f in self.fields if self.applies(f, answers)]

    def sealed_keys(self) -> dict[str, str]:
        """Form fields holding personal ID numbers and phone numbers (key → type): stored encrypted (SM4)
        in the case, shown masked."""
        return {f.key: f.type for f in self.fields if f.type in SEALED_TYPES}

    def fee_total(self, answers) -> Decimal:
        return sum((f.amount for f in self.fees if self.applies(f, answers)), Decimal("0"))
