"""GB/T 4754-2017 国民经济行业分类: the 20 sections (门类, A–T) and the divisions (大类, 01–97) each holds.
A code is the section letter, optionally followed by the 2-digit division, 3-digit group (中类) or 4-digit
class (小类) — ``C``, ``C39``, ``C391``, ``C3911`` — and its division must belong to its section."""

import re

SECTIONS = {
    "A": ("农、林、牧、渔业", 1, 5), "B": ("采矿业", 6, 12), "C": ("制造业", 13, 43),
    "D": ("电力、热力、燃气及水生产和供应业", 44, 46), "E": ("建筑业", 47, 50), "F": ("批发和零售业", 51, 52),
    "G": ("交通运输、仓储和邮政业", 53, 60), "H": ("住宿和餐饮业", 61, 62),
    "I": ("信息传输、软件和信息技术服务业", 63, 65), "J": ("金融业", 66, 69), "K": ("房地产业", 70, 70),
    "L": ("租赁和商务服务业", 71, 72), "M": ("科学研究和技术服务业", 73, 75),
    "N": ("水利、环境和公共设施管理业", 76, 79), "O": ("居民服务、修理和其他服务业", 80, 82), "P": ("教育", 83, 83),
    "Q": ("卫生和社会工作", 84, 85), "R": ("文化、体育和娱乐业", 86, 90),
    "S": ("公共管理、社会保障和社会组织", 91, 96), "T": ("国际组织", 97, 97),
}
_CODE = re.compile(r"^([A-T])(\d{2,4})?$")


def parse_industry(code: str) -> str:
    """The code normalised (upper case), or ValueError with a Chinese sentence."""
    code = (code or "").strip().upper()
    m = _CODE.match(code)
    if not m:
        raise ValueError("行业代码应为 GB/T 4754 门类字母加可选的2～4位数字，如 C3911")
    letter, digits = m.groups()
    if digits:
        _, lo, hi = SECTIONS[letter]
        if not lo <= int(digits[:2]) <= hi:
            raise ValueError(f"行业大类 {digits[:2]} 不属于门类 {letter}（{SECTIONS[letter][0]}）")
    return code


def section_name(code: str) -> str:
    return SECTIONS.get((code or " ")[0], ("未知",))[0]
