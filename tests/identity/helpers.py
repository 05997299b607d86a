"""Files and records for the identity tests."""

import csv
import io

from openpyxl import Workbook

from smartgov.core.permissions import system_actor
from smartgov.identity import services
from tests import factories as f

PERSON_HEADER = ["姓名", "公民身份号码", "国籍", "行政区划代码", "住址", "手机号"]


def person_row(seq: int, *, name: str | None = None, birth: str = "19900101", phone: str = "") -> list:
    return [name or f"测试{seq}", f.id_number(birth, seq), "CHN", "330106", f"文三路{seq}号", phone]


def xlsx(rows: list[list], header: list[str] = PERSON_HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[list], header: list[str] = PERSON_HEADER, *, encoding: str = "utf-8-sig") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def person(department, seq: int | None = None, **kw):
    return services.register_person(actor=system_actor("test"), name=kw.pop("name", "登记人"), id_number=f.id_number("19851231", seq),
                                    department=department, **kw)
