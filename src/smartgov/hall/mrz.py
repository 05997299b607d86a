"""Machine-readable zones of travel documents, ICAO Doc 9303 (8th edition):

- TD3 (passport booklets, 2 × 44) — Part 4 §4.2.2
- TD2 (2 × 36) — Part 6 §4.2.2
- TD1 (cards, 3 × 30, including the long document number in the optional data) — Part 5 §4.2.2
- check digits — Part 3 §4.9 (weights 7, 3, 1; ``<`` = 0, ``A``–``Z`` = 10–35)

Every error names the field it is in: ``MRZError.detail`` maps field → message, all fields at once.
The Chinese Exit-Entry Permit's card layout is not implemented: its specification is not published (see
docs/hall.md).
"""

import datetime
import re
from dataclasses import dataclass, field

from smartgov.core.errors import InvalidInput

ALPHABET = re.compile(r"^[A-Z0-9<]*$")
WEIGHTS = (7, 3, 1)

FIELD_LABELS = {
    "format": "格式", "document_code": "证件类型", "issuing_state": "签发国", "name": "姓名",
    "document_number": "证件号码", "nationality": "国籍", "birth_date": "出生日期", "sex": "性别",
    "expiry_date": "有效期至", "optional_data": "可选数据", "optional_data_2": "可选数据2",
    "composite": "综合校验位",
}


class MRZError(InvalidInput):
    code = "mrz_invalid"
    message = "机读区（MRZ）校验未通过"


def char_value(c: str) -> int:
    if c.isdigit():
        return int(c)
    if c == "<":
        return 0
    if "A" <= c <= "Z":
        return ord(c) - ord("A") + 10
    raise ValueError(f"not an MRZ character: {c!r}")


def check_digit(data: str) -> str:
    """ICAO 9303 Part 3 §4.9."""
    return str(sum(char_value(c) * WEIGHTS[i % 3] for i, c in enumerate(data)) % 10)


@dataclass
class MRZ:
    format: str  # TD1, TD2, TD3
    document_code: str
    issuing_state: str
    surname: str
    given_names: str
    document_number: str
    nationality: str
    birth_date: datetime.date | None
    sex: str  # M, F, X
    expiry_date: datetime.date | None
    optional_data: str = ""
    optional_data_2: str = ""
    errors: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"format": self.format, "document_code": self.document_code, "issuing_state": self.issuing_state,
                "surname": self.surname, "given_names": self.given_names, "document_number": self.document_number,
                "nationality": self.nationality, "birth_date": self.birth_date.isoformat() if self.birth_date else None,
                "sex": self.sex, "expiry_date": self.expiry_date.isoformat() if self.expiry_date else None,
                "optional_data": self.optional_data, "optional_data_2": self.optional_data_2}


def _date(text: str, *, birth: bool, today: datetime.date) -> datetime.date | None:
    """YYMMDD. A birth date is never in the future (so ``YY`` above this year is 19YY); an expiry date is
    20YY (documents are valid at most a few decades)."""
    if not text.isdigit():
        return None
    yy, mm, dd = int(text[:2]), int(text[2:4]), int(text[4:])
    century = 1900 if birth and yy > today.year % 100 else 2000
    try:
        return datetime.date(century + yy, mm, dd)
    except ValueError:
        return None


def _name(text: str) -> tuple[str, str]:
    primary, _, secondary = text.rstrip("<").partition("<<")
    return primary.replace("<", " ").strip(), secondary.replace("<", " ").strip()


class _Checker:
    def __init__(self, today):
        self.errors: dict[str, str] = {}
        self.today = today

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def digit(self, name: str, data: str, given: str, *, optional: bool = False) -> None:
        if optional and given == "<" and set(data) <= {"<"}:
            return  # an empty optional field may carry a filler instead of a check digit
        if given != check_digit(data):
            self.fail(name, f"{FIELD_LABELS[name]}校验位错误（应为 {check_digit(data)}，实为 {given}）")

    def date(self, name: str, text: str, *, birth: bool):
        value = _date(text, birth=birth, today=self.today)
        if value is None:
            self.fail(name, f"{FIELD_LABELS[name]}不是有效日期（YYMMDD）：{text}")
        return value

    def sex(self, c: str) -> str:
        if c not in "MFX<":
            self.fail("sex", f"性别只能是 M、F、X 或 <：{c}")
        return "X" if c == "<" else c

    def name(self, text: str) -> tuple[str, str]:
        if not re.fullmatch(r"[A-Z<]+", text):
            self.fail("name", f"姓名只能含 A–Z 和 <：{text.rstrip('<')}")
        return _name(text)

    def code(self, name: str, text: str) -> str:
        if not re.fullmatch(r"[A-Z<]{3}", text) or text == "<<<":
            self.fail(name, f"{FIELD_LABELS[name]}应为3位字母代码：{text}")
        return text.replace("<", "")

    def doc_code(self, text: str, allowed: str) -> str:
        if text[0] not in allowed or not re.fullmatch(r"[A-Z<]", text[1]):
            self.fail("document_code", f"证件类型代码无效：{text}")
        return text.replace("<", "")


def parse(text: str, *, today: datetime.date | None = None) -> MRZ:
    """Parse and verify an MRZ (lines separated by newlines; surrounding spaces ignored). Raises
    ``MRZError`` naming every bad field; returns the fields otherwise."""
    today = today or datetime.date.today()
    lines = [ln.strip().upper() for ln in text.strip().splitlines() if ln.strip()]
    shape = (len(lines), *(len(ln) for ln in lines))
    parsers = {(2, 44, 44): _td3, (2, 36, 36): _td2, (3, 30, 30, 30): _td1}
    if shape not in parsers:
        raise MRZError("机读区行数或长度不符合 TD1（3×30）、TD2（2×36）或 TD3（2×44）",
                       detail={"format": f"{len(lines)} 行，每行 {[len(ln) for ln in lines]} 个字符"})
    bad = [i + 1 for i, ln in enumerate(lines) if not ALPHABET.match(ln)]
    if bad:
        raise MRZError("机读区只能含 A–Z、0–9 和 <", detail={"format": f"第 {bad} 行含非法字符"})
    check = _Checker(today)
    mrz = parsers[shape](lines, check)
    if check.errors:
        raise MRZError(detail=check.errors)
    return mrz


def _td3(lines, c: _Checker) -> MRZ:
    l1, l2 = lines
    surname, given = c.name(l1[5:44])
    if not surname:
        c.fail("name", "姓名不能为空")
    mrz = MRZ(format="TD3", document_code=c.doc_code(l1[0:2], "P"), issuing_state=c.code("issuing_state", l1[2:5]),
              surname=surname, given_names=given, document_number=l2[0:9].replace("<", ""),
              nationality=c.code("nationality", l2[10:13]), birth_date=c.date("birth_date", l2[13:19], birth=True),
              sex=c.sex(l2[20]), expiry_date=c.date("expiry_date", l2[21:27], birth=False),
              optional_data=l2[28:42].rstrip("<"))
    c.digit("document_number", l2[0:9], l2[9])
    c.digit("birth_date", l2[13:19], l2[19])
    c.digit("expiry_date", l2[21:27], l2[27])
    c.digit("optional_data", l2[28:42], l2[42], optional=True)
    c.digit("composite", l2[0:10] + l2[13:20] + l2[21:43], l2[43])
    return mrz


def _td2(lines, c: _Checker) -> MRZ:
    l1, l2 = lines
    surname, given = c.name(l1[5:36])
    if not surname:
        c.fail("name", "姓名不能为空")
    mrz = MRZ(format="TD2", document_code=c.doc_code(l1[0:2], "ACI"), issuing_state=c.code("issuing_state", l1[2:5]),
              surname=surname, given_names=given, document_number=l2[0:9].replace("<", ""),
              nationality=c.code("nationality", l2[10:13]), birth_date=c.date("birth_date", l2[13:19], birth=True),
              sex=c.sex(l2[20]), expiry_date=c.date("expiry_date", l2[21:27], birth=False),
              optional_data=l2[28:35].rstrip("<"))
    c.digit("document_number", l2[0:9], l2[9])
    c.digit("birth_date", l2[13:19], l2[19])
    c.digit("expiry_date", l2[21:27], l2[27])
    c.digit("composite", l2[0:10] + l2[13:20] + l2[21:35], l2[35])
    return mrz


def _td1(lines, c: _Checker) -> MRZ:
    l1, l2, l3 = lines
    surname, given = c.name(l3)
    if not surname:
        c.fail("name", "姓名不能为空")
    number, optional = l1[5:14], l1[15:30]
    if l1[14] == "<" and optional.rstrip("<"):
        # Part 5 §4.2.2 note j: a number longer than 9 characters continues in the optional data, its
        # check digit follows it, then a filler
        rest = optional.rstrip("<")
        number, number_check, optional = number + rest[:-1], rest[-1], optional[len(rest) + 1:]
    else:
        number_check = l1[14]
    mrz = MRZ(format="TD1", document_code=c.doc_code(l1[0:2], "ACI"), issuing_state=c.code("issuing_state", l1[2:5]),
              surname=surname, given_names=given, document_number=number.replace("<", ""),
              nationality=c.code("nationality", l2[15:18]), birth_date=c.date("birth_date", l2[0:6], birth=True),
              sex=c.sex(l2[7]), expiry_date=c.date("expiry_date", l2[8:14], birth=False),
              optional_data=optional.rstrip("<"), optional_data_2=l2[18:29].rstrip("<"))
    c.digit("document_number", number, number_check)
    c.digit("birth_date", l2[0:6], l2[6])
    c.digit("expiry_date", l2[8:14], l2[14])
    c.digit("composite", l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29])
    return mrz
