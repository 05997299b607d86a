"""NMPA vaccine traceability data (疫苗追溯基本数据集, NMPAB/T 1004-2019; exchange: NMPAB/T 1005-2019):
the vocabularies and format rules the data sets use, as pure functions (no reads, no writes).

Sources, and what each rule here rests on (see docs/trace.md, "NMPA vaccine data"):

- 批准文号: 《药品注册管理办法》(2020, 市场监管总局令第27号) art. 123 — 境内生产 ``国药准字H(Z、S)+四位年号+
  四位顺序号``; 港澳台 ``…C+…``; 境外生产 ``…J+…``; S = 生物制品 (every vaccine).
- 批签发: 《生物制品批签发管理办法》(2020, 市场监管总局令第33号) — a batch passes (《生物制品批签发证明》) or
  is refused (《生物制品不予批签发通知书》); 《疫苗管理法》 art. 26: a batch without it may not be sold.
- 包装比例: written from the largest level down, as cumulative counts of each level in one top-level
  package — ``1:5:10`` is one 大包装 holding 5 中包装 and 10 最小包装 in all (the coding platform's
  practice: "申请的包装比例是1:5:10，对应的码展示等级就是1、2、3，代表大码、中码、小码").
- 接种途径 / 接种部位: the routes and sites of 《预防接种工作规范》 (口服, 皮内, 皮下, 肌内注射; 鼻喷;
  上臂外侧三角肌, 大腿前外侧中部 …). The numeric code tables of NMPAB/T 1004-2019 could not be consulted
  here, so the codes below are this platform's (stable, English slugs), each with its Chinese label.
- AEFI 分类: 《疫苗管理法》 art. 52–56 and the national AEFI surveillance plan's categories (不良反应 —
  一般反应、异常反应; 疫苗质量事故; 接种事故; 偶合症; 心因性反应), plus 待定 until the expert group
  has classified the case.
"""

import itertools
import re

from django.utils.translation import gettext_lazy as _

APPROVAL_NUMBER = re.compile(r"^国药准字(?P<kind>[HZS])(?P<origin>[CJ]?)(?P<year>\d{4})(?P<serial>\d{4})$")
APPROVAL_KINDS = {"H": "化学药", "Z": "中药", "S": "生物制品"}
APPROVAL_ORIGINS = {"": "境内生产", "C": "中国香港、澳门和台湾地区生产", "J": "境外生产"}


def parse_approval_number(text: str) -> dict | None:
    """The parts of a 批准文号, or None when it is not in the 《药品注册管理办法》 format."""
    m = APPROVAL_NUMBER.match((text or "").strip())
    if m is None:
        return None
    return {"kind": APPROVAL_KINDS[m["kind"]], "origin": APPROVAL_ORIGINS[m["origin"]], "year": m["year"],
            "serial": m["serial"], "biological": m["kind"] == "S"}


def packaging_ratio(contains: list[int]) -> str:
    """包装比例 from what each level holds of the level below, smallest level first (level 1 holds 1).
    ``[1, 2, 5]`` (a 中包装 holds 2 最小包装, a 大包装 holds 5 中包装) → ``"1:5:10"``."""
    totals, count = [], 1
    for held in reversed(contains[1:]):
        count *= held
        totals.append(count)
    return ":".join(["1", *(str(t) for t in totals)])


def parse_packaging_ratio(text: str) -> list[int]:
    """The inverse: ``"1:5:10"`` → ``[1, 2, 5]``. Each count must divide the next one."""
    try:
        totals = [int(p) for p in text.strip().split(":")]
    except (AttributeError, ValueError):
        raise ValueError("包装比例应写作 1:中包装数:最小包装数（整数，以冒号分隔）") from None
    if len(totals) < 2 or totals[0] != 1 or any(t < 1 for t in totals):
        raise ValueError("包装比例应以 1 开头，各级数量为正整数")
    contains = []
    for bigger, smaller in itertools.pairwise(totals):
        if smaller % bigger:
            raise ValueError(f"包装比例 {text}：{smaller} 不能被 {bigger} 整除")
        contains.append(smaller // bigger)
    return [1, *reversed(contains)]


ROUTES = {  # 接种途径
    "oral": _("口服"),
    "intradermal": _("皮内注射"),
    "subcutaneous": _("皮下注射"),
    "intramuscular": _("肌内注射"),
    "intranasal": _("鼻喷"),
}
SITES = {  # 接种部位
    "left_deltoid": _("左上臂外侧三角肌"),
    "right_deltoid": _("右上臂外侧三角肌"),
    "left_thigh": _("左大腿前外侧中部"),
    "right_thigh": _("右大腿前外侧中部"),
    "mouth": _("口腔"),
    "nose": _("鼻腔"),
    "other": _("其他部位"),
}
# A route is only given at the sites it can be given at (an intramuscular dose in the mouth is an error).
ROUTE_SITES = {
    "oral": {"mouth"},
    "intranasal": {"nose"},
    "intradermal": {"left_deltoid", "right_deltoid", "other"},
    "subcutaneous": {"left_deltoid", "right_deltoid", "left_thigh", "right_thigh", "other"},
    "intramuscular": {"left_deltoid", "right_deltoid", "left_thigh", "right_thigh", "other"},
}

AEFI_CLASSES = {
    "pending": _("待定（调查诊断中）"),
    "common_reaction": _("一般反应"),
    "rare_reaction": _("异常反应"),
    "quality_incident": _("疫苗质量事故"),
    "programme_error": _("接种事故"),
    "coincidental": _("偶合症"),
    "psychogenic": _("心因性反应"),
}

LOT_RELEASE_CONCLUSIONS = {"passed": _("予以批签发"), "refused": _("不予批签发")}
