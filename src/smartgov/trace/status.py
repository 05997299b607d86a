"""One answer to "what state is this dose in?" (剂次状态) for every page and the API.

A code's stored disposition is the last CBV disposition of its own events, a container's newer
disposition may overlay it (a dose inside a pallet in transit is in transit), and the flags record
what can never be undone (administered, destroyed) or holds it (recalled, in question). Pages used to
show whichever of those they had to hand, so one dose was "recalled" on the recall page and
"in_progress" on the trace page. Every caller now asks :func:`dose_status`, in this order of
precedence: what is final first, then what holds the dose, then where it is.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import FLAG_ADMINISTERED, FLAG_DESTROYED, FLAG_IN_QUESTION, FLAG_RECALLED


class DoseStatus(models.TextChoices):
    DESTROYED = "destroyed", _("已销毁")
    ADMINISTERED = "administered", _("已接种")
    DECOMMISSIONED = "decommissioned", _("已注销")
    RETURNED = "returned", _("已召回退回")
    RECALLED = "recalled", _("召回中（待退回）")
    IN_QUESTION = "in_question", _("温度存疑（暂停使用）")
    IN_TRANSIT = "in_transit", _("运输中")
    EXPIRED = "expired", _("已过期")
    AVAILABLE = "available", _("在库可用")
    UNKNOWN = "unknown", _("状态未知")


_CLASS = {DoseStatus.DESTROYED: "bad", DoseStatus.ADMINISTERED: "ok", DoseStatus.DECOMMISSIONED: "muted",
          DoseStatus.RETURNED: "muted",
          DoseStatus.RECALLED: "bad", DoseStatus.IN_QUESTION: "warn", DoseStatus.IN_TRANSIT: "info",
          DoseStatus.EXPIRED: "bad", DoseStatus.AVAILABLE: "ok", DoseStatus.UNKNOWN: "muted"}


def dose_status(*, flags: int | None, disposition: str | None, expired: bool = False) -> DoseStatus:
    """The dose's state from its flags and its effective disposition (the code's own, or its
    container's when newer: pass ``selectors.effective_state(...)["disposition"]``)."""
    if flags is None and not disposition:
        return DoseStatus.UNKNOWN
    flags = flags or 0
    disposition = (disposition or "").rsplit(":", 1)[-1].rsplit("/", 1)[-1]  # CBV URI or bare word
    if flags & FLAG_DESTROYED or disposition == "destroyed":
        return DoseStatus.DESTROYED
    if flags & FLAG_ADMINISTERED:
        return DoseStatus.ADMINISTERED
    if disposition == "inactive":  # CBV decommissioning (注销): the code no longer stands for a dose in the chain
        return DoseStatus.DECOMMISSIONED
    if flags & FLAG_RECALLED:
        return DoseStatus.RETURNED if disposition == "returned" else DoseStatus.RECALLED
    if flags & FLAG_IN_QUESTION:
        return DoseStatus.IN_QUESTION
    if expired:
        return DoseStatus.EXPIRED
    if disposition == "in_transit":
        return DoseStatus.IN_TRANSIT
    return DoseStatus.AVAILABLE


# What is still in the supply chain (在流通): commissioned and neither administered/dispensed, decommissioned nor
# destroyed. A recalled dose stays in circulation until it is destroyed (returned doses included); an expired one
# until it is destroyed or decommissioned.
OUT_OF_CIRCULATION = frozenset({DoseStatus.DESTROYED, DoseStatus.ADMINISTERED, DoseStatus.DECOMMISSIONED,
                                DoseStatus.UNKNOWN})


def in_circulation(status: DoseStatus) -> bool:
    return status not in OUT_OF_CIRCULATION


def as_dict(status: DoseStatus) -> dict:
    """What pages and the API show: the stable code, its label (in the active language) and a colour."""
    return {"code": status.value, "label": str(status.label), "tone": _CLASS[status]}


# GS1 CBV 2.0 vocabulary as people read it (§7.2 business steps, §7.3 dispositions) and EPCIS actions.
BIZ_STEPS = {
    "commissioning": _("赋码激活"), "packing": _("装箱"), "unpacking": _("拆箱"), "shipping": _("发货"),
    "receiving": _("收货"), "transporting": _("运输"), "storing": _("入库储存"), "stocking": _("上架"),
    "dispensing": _("接种/发放"), "destroying": _("销毁"), "decommissioning": _("注销"), "inspecting": _("检查"),
    "holding": _("暂扣"), "loading": _("装车"), "unloading": _("卸车"), "departing": _("离开"), "arriving": _("到达"),
    "accepting": _("验收"), "picking": _("拣货"), "sampling": _("抽样"), "sensor_reporting": _("传感器上报"),
    "void_shipping": _("撤销发货"), "retail_selling": _("零售"), "repackaging": _("重新包装"), "other": _("其他"),
}
DISPOSITIONS = {
    "active": _("已激活"), "in_progress": _("流通中"), "in_transit": _("运输中"), "recalled": _("已召回"),
    "returned": _("已退回"), "destroyed": _("已销毁"), "dispensed": _("已接种/发放"), "expired": _("已过期"),
    "damaged": _("已损坏"), "container_closed": _("容器已封闭"), "sellable_accessible": _("可售可取"),
    "sellable_not_accessible": _("可售不可取"), "non_sellable_other": _("不可销售"), "inactive": _("未激活"),
    "reserved": _("已预留"), "stolen": _("被盗"), "unknown": _("未知"),
}
ACTIONS = {"ADD": _("新增"), "OBSERVE": _("观察"), "DELETE": _("解除")}


def _bare(term: str | None) -> str:
    return (term or "").rsplit(":", 1)[-1].rsplit("/", 1)[-1]


def biz_step_label(term: str | None) -> str:
    return str(BIZ_STEPS.get(_bare(term), _bare(term)))


def disposition_label(term: str | None) -> str:
    return str(DISPOSITIONS.get(_bare(term), _bare(term)))


def action_label(action: str | None) -> str:
    return str(ACTIONS.get(action or "", action or ""))
