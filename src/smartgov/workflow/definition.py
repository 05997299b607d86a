"""A process definition as data (流程定义): sequential stages, each of one or more parallel steps.

```
{"stages": [
   {"name": "审查", "mode": "all", "steps": [
       {"key": "review", "name": "承办人审查", "role": "officer", "department": "owner", "time_limit_days": 3},
       {"key": "fire", "name": "消防意见", "role": "officer", "department": "SFC-XFJ",
        "condition": {"field": "area", "op": "gt", "value": 300}}]},
   {"name": "决定", "steps": [{"key": "decide", "name": "审批决定", "role": "dept_admin", "department": "owner"}]}]}
```

- Stages run one after another; the steps of a stage run in parallel.
- ``mode``: ``all`` — every step must approve (会签, countersign); ``any`` — the first step to act
  decides for the stage and the others are withdrawn (或签).
- ``department``: ``owner`` (the department responsible for the case) or a department code.
- ``condition``: a test on the case's form data; a step whose condition fails is left out, a stage
  with no step left is skipped. ``{"all": [...]}`` / ``{"any": [...]}`` nest.
- Any step rejecting ends the case as rejected (with that step's opinion as the reason).
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from smartgov.core.permissions import Role

Op = Literal["eq", "ne", "gt", "ge", "lt", "le", "in", "truthy"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Test(_Strict):
    field: str
    op: Op = "eq"
    value: Any = None


class Condition(_Strict):
    all: list["Condition | Test"] = []
    any: list["Condition | Test"] = []


def condition_holds(cond: "Condition | Test | None", data: dict) -> bool:
    if cond is None:
        return True
    if isinstance(cond, Test):
        have = data.get(cond.field)
        try:
            match cond.op:
                case "eq":
                    return have == cond.value
                case "ne":
                    return have != cond.value
                case "in":
                    return have in (cond.value or [])
                case "truthy":
                    return bool(have)
            have, want = float(have), float(cond.value)
        except (TypeError, ValueError):
            return False  # a missing or non-numeric value never satisfies a comparison
        return {"gt": have > want, "ge": have >= want, "lt": have < want, "le": have <= want}[cond.op]
    return all(condition_holds(c, data) for c in cond.all) and (
        not cond.any or any(condition_holds(c, data) for c in cond.any))


class StepDef(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    name: str
    role: Literal[Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR] = Role.OFFICER
    department: str = "owner"
    time_limit_days: int | None = Field(None, ge=0, le=365)
    condition: Condition | Test | None = None


class StageDef(_Strict):
    name: str
    mode: Literal["all", "any"] = "all"
    steps: list[StepDef] = Field(min_length=1)


class Definition(_Strict):
    stages: list[StageDef] = Field(min_length=1)

    @field_validator("stages")
    @classmethod
    def _unique_step_keys(cls, stages):
        keys = [s.key for stage in stages for s in stage.steps]
        if len(keys) != len(set(keys)):
            raise ValueError("step keys must be unique within a process")
        return stages

    def department_codes(self) -> set[str]:
        return {s.department for stage in self.stages for s in stage.steps if s.department != "owner"}


# Processes every installation has; ``smartgov demo`` and the one-stop app define them if missing.
STANDARD_PROCESSES = {
    "standard": ("一般审批（审查—决定）", {"stages": [
        {"name": "审查", "steps": [{"key": "review", "name": "承办人审查", "role": "officer"}]},
        {"name": "决定", "steps": [{"key": "decide", "name": "审批决定", "role": "dept_admin"}]}]}),
    "fast": ("即办件（一人审批）", {"stages": [
        {"name": "审批", "steps": [{"key": "approve", "name": "即审即办", "role": "officer"}]}]}),
    "countersign": ("联合审查（会签）", {"stages": [
        {"name": "审查", "steps": [{"key": "review", "name": "承办人审查", "role": "officer"}]},
        {"name": "会签", "mode": "all", "steps": [
            {"key": "cosign_owner", "name": "科室负责人会签", "role": "dept_admin"},
            {"key": "cosign_expert", "name": "专家评审意见", "role": "officer",
             "condition": {"field": "needs_expert", "op": "truthy"}}]},
        {"name": "决定", "steps": [{"key": "decide", "name": "审批决定", "role": "dept_admin"}]}]}),
}
