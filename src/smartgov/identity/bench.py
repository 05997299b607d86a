"""``smartgov bench identity``: importing a person file (人口批量导入), end to end through the service.

Generates a valid synthetic file (correct GB 11643 check characters, mobile numbers), imports it with
``services.import_persons`` and reports rows per second for the .xlsx and the .csv path, with the time of
each step and, beside them, the raw speed of the layers underneath (SM4-GCM field encryption, HMAC-SM3
blind index) measured in the same run.
"""

import csv
import datetime as dt
import io
import secrets
import time

from openpyxl import Workbook

from smartgov.accounts.models import Level
from smartgov.accounts.services import create_department
from smartgov.core.crypto import keys
from smartgov.core.permissions import system_actor
from smartgov.core.validators import id_number_check_char

from . import services

HEADER = ["姓名", "公民身份号码", "国籍", "行政区划代码", "住址", "手机号"]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def synthetic_rows(rows: int, *, region: str = "330106", seed: int | None = None):
    """Distinct valid persons: birth dates from 1950 on, 1,000 sequence numbers a day."""
    seed = secrets.randbelow(10_000) if seed is None else seed
    start = dt.date(1950, 1, 1) + dt.timedelta(days=seed)
    for i in range(rows):
        birth = start + dt.timedelta(days=i // 1000)
        body = f"{region}{birth:%Y%m%d}{i % 1000:03d}"
        yield [_SURNAMES[i % 20] + _GIVEN[(i // 20) % 24] + _GIVEN[(i // 480) % 24], body + id_number_check_char(body),
               "CHN", region, f"示范市西湖区文三路{i % 999 + 1}号", f"13{i % 7 + 3}{i:08d}"]


def synthetic_xlsx(rows: int, **kw) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("人口")
    ws.append(HEADER)
    for row in synthetic_rows(rows, **kw):
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def synthetic_csv(rows: int, *, encoding: str = "utf-8-sig", **kw) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    w.writerows(synthetic_rows(rows, **kw))
    return buf.getvalue().encode(encoding)


class _StepClock:
    """Wall time per import step, from the progress callbacks."""

    def __init__(self, outer=None):
        self.outer = outer
        self.steps: dict[str, float] = {}
        self.last = time.perf_counter()
        self.current = None

    def __call__(self, step, advance, total):
        now = time.perf_counter()
        self.steps[step] = self.steps.get(step, 0.0) + (now - self.last)
        self.last = now
        if self.outer:
            self.outer(advance)


def _department():
    tag = secrets.token_hex(3)
    return create_department(actor=system_actor("identity.bench"), name=f"基准测试局{tag}", code=f"BENCH{tag}", level=Level.CITY)


def measure_import(*, rows: int = 100_000, progress=None) -> dict:
    dept = _department()
    results = {"rows": rows}
    for fmt, make in (("xlsx", synthetic_xlsx), ("csv", synthetic_csv)):
        data = make(rows, region="330106" if fmt == "xlsx" else "110105")
        clock = _StepClock(progress)
        t0 = time.perf_counter()
        clock.last = t0
        run = services.import_persons(actor=system_actor("identity.bench"), data=data, file_name=f"bench.{fmt}", department=dept,
                                      progress=clock)
        seconds = time.perf_counter() - t0
        assert run.imported == rows, (run.imported, run.errors[:5])
        results[f"{fmt}_s"] = round(seconds, 2)
        results[f"{fmt}_rows_per_s"] = round(rows / seconds)
        results[f"{fmt}_steps_s"] = {k: round(v, 2) for k, v in clock.steps.items()}
    results["import_rows_per_s"] = results["xlsx_rows_per_s"]  # the slower, usual case: a file saved by Excel
    results["import_100k_s"] = round(100_000 / results["import_rows_per_s"], 1)
    # the layers underneath, same run
    ring = keys.get_keyring()
    n = 20_000
    t0 = time.perf_counter()
    for i in range(n):
        ring.encrypt_field(f"33010619900101{i:04d}", purpose="id_number")
    results["raw_encrypt_per_s"] = round(n / (time.perf_counter() - t0))
    t0 = time.perf_counter()
    for i in range(n):
        ring.blind_index(f"33010619900101{i:04d}", purpose="id_number")
    results["raw_blind_index_per_s"] = round(n / (time.perf_counter() - t0))
    return results


def bench_register_import(*, size: int = 100_000, progress=None) -> dict:
    """``smartgov bench register_import``: the person-file import alone (also part of ``bench identity``)."""
    return measure_import(rows=size, progress=progress)


BENCHMARKS = {"register_import": bench_register_import}
