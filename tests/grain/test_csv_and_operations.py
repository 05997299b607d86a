from decimal import Decimal

import numpy as np
import pytest

from smartgov.grain import selectors
from smartgov.grain.models import Lot, Movement, Price, Scan
from tests import factories
from tests.grain import factories as gf

pytestmark = pytest.mark.django_db

HEADER = "storepoint,line_no,layer_no,batch time,temp,x,y,z,indoor_temp,indoor_humidity,outdoor_temp,outdoor_humidity\n"


def vendor_csv(wh, when="2026-11-20 08:00:00", hot=None, skip=None):
    lines = [HEADER]
    for layer in range(wh.layers):
        for cable in range(wh.rows * wh.cols):
            if skip == (layer, cable):
                continue
            t = 30.5 if hot == (layer, cable) else 12.0 + layer * 0.5
            lines.append(f"{wh.code},{cable + 1},{layer + 1},{when},{t},{cable // wh.cols + 1},{cable % wh.cols + 1},"
                         f"{layer + 1},10.5,65,6.0,72\n")
    return "".join(lines)


def post_csv(client, wh, text):
    return client.post(f"/api/grain/scans/csv?depot={wh.depot.code}", text.encode(), content_type="text/csv")


def test_vendor_csv_export_becomes_one_scan_per_warehouse_and_time():
    wh = gf.warehouse(rows=3, cols=4, layers=2)
    client = factories.staff_client(gf.officer(wh.depot))
    resp = post_csv(client, wh, vendor_csv(wh, hot=(1, 5)) + vendor_csv(wh, "2026-11-21 08:00:00")[len(HEADER):])
    assert resp.status_code == 201, resp.content
    assert resp.json()["stored"] == 2
    first = Scan.objects.order_by("taken_at").first()
    t = first.temperature_array()
    assert t[1 * 12 + 5] == np.float32(30.5) and t[0] == np.float32(12.0) and t[12] == np.float32(12.5)
    assert (first.air_temp, first.air_rh, first.out_temp, first.out_rh) == (10.5, 65.0, 6.0, 72.0)
    assert first.taken_at.isoformat() == "2026-11-20T00:00:00+00:00"  # local time (Asia/Shanghai) of the export
    assert first.source == "csv"


@pytest.mark.parametrize(("mutate", "code"), [
    (lambda wh, text: text.replace("storepoint,", "store,"), "csv_columns"),
    (lambda wh, text: vendor_csv(wh, skip=(0, 3)), "incomplete_scan"),
    (lambda wh, text: text.replace(",1,1,2026", ",99,1,2026", 1), "invalid_csv_row"),
    (lambda wh, text: text.replace("P1,", "P9,", 1), "invalid_csv_row"),
    (lambda wh, text: HEADER, "empty_csv"),
])
def test_bad_vendor_csv_is_refused_whole(mutate, code):
    wh = gf.warehouse(rows=3, cols=4, layers=2)
    client = factories.staff_client(gf.officer(wh.depot))
    resp = post_csv(client, wh, mutate(wh, vendor_csv(wh)))
    assert resp.status_code == 422 and resp.json()["code"] == code
    assert Scan.objects.count() == 0


def test_intake_over_the_weighbridge_deducts_excess_moisture_and_impurity_and_moves_the_ledger():
    wh = gf.warehouse(variety="wheat")
    client = factories.staff_client(gf.officer(wh.depot))
    resp = client.post("/api/grain/movements", {"warehouse": wh.pk, "kind": "intake", "vehicle": "浙a12345",
                                                "gross_kg": "45000", "tare_kg": "15000", "moisture": 13.5,
                                                "impurity": 1.5, "grade": 2}, content_type="application/json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    # net 30000 kg; moisture 13.5 − 12.5 = 1.0 % and impurity 1.5 − 1.0 = 0.5 % → 450 kg off
    assert Decimal(body["deduction_kg"]) == Decimal("450.0") and Decimal(body["settled_kg"]) == Decimal("29550.0")
    assert Decimal(body["balance_t"]) == Decimal("3029.550")
    assert Movement.objects.get().vehicle == "浙A12345"


def test_outtake_beyond_the_book_is_refused_and_changes_nothing():
    wh = gf.warehouse()
    client = factories.staff_client(gf.officer(wh.depot))
    resp = client.post("/api/grain/movements", {"warehouse": wh.pk, "kind": "outtake", "vehicle": "浙A1",
                                                "gross_kg": "9000000", "tare_kg": "15000", "moisture": 12,
                                                "impurity": 0.5, "grade": 2}, content_type="application/json")
    assert resp.status_code == 409 and resp.json()["code"] == "insufficient_stock"
    assert Lot.objects.get().tonnes == Decimal("3000.000") and not Movement.objects.exists()


@pytest.mark.parametrize(("volume", "density", "within"), [(4000, 740, True), (4200, 740, False), (3950, 740, True), (3900, 740, False)])
def test_stock_check_flags_differences_beyond_three_percent(volume, density, within):
    wh = gf.warehouse()  # 3000 t on the book
    client = factories.staff_client(gf.officer(wh.depot))
    resp = client.post("/api/grain/stock-checks", {"warehouse": wh.pk, "volume_m3": volume,
                                                   "bulk_density_kg_m3": density}, content_type="application/json")
    assert resp.status_code == 201
    body = resp.json()
    assert body["within_tolerance"] is within
    assert body["difference_pct"] == pytest.approx((volume * density / 1000 - 3000) / 3000 * 100, abs=0.01)


def test_rotation_deadline_depends_on_variety_and_region():
    from datetime import date

    lot = Lot(variety="corn", storage_start=date(2024, 10, 1))
    assert selectors.rotation_status(lot, "south", today=date(2025, 11, 1))["state"] == "window"
    assert selectors.rotation_status(lot, "south", today=date(2026, 10, 2))["state"] == "overdue"
    assert selectors.rotation_status(lot, "north", today=date(2026, 10, 2))["state"] == "window"
    wheat = Lot(variety="wheat", storage_start=date(2024, 10, 1))
    assert selectors.rotation_status(wheat, "north", today=date(2026, 10, 2))["deadline"] == date(2029, 10, 1)


def test_price_csv_import_and_stored_grain_value():
    bureau = gf.bureau()
    gf.warehouse(gf.depot(bureau), variety="wheat")
    sup = gf.supervisor(bureau)
    client = factories.staff_client(sup)
    csv_text = "品种,地区,日期,元/吨\n小麦,华北,2026-11-01,2400\n小麦,长江中下游,2026-11-01,2500\nwheat,华北,2026-10-01,2300\n"
    resp = client.post("/api/grain/prices/csv", csv_text.encode(), content_type="text/csv")
    assert resp.status_code == 200 and resp.json() == {"rows": 3}
    assert Price.objects.count() == 3
    value = selectors.stock_value(selectors.stock_by_variety_owner(sup))
    assert value["rows"][0]["price"] == 2450.0 and value["total"] == round(3000 * 2450 / 10000, 1)
    bad = client.post("/api/grain/prices/csv", "h\n大米,华北,2026-11-01,x\n".encode(), content_type="text/csv")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_price_row" and Price.objects.count() == 3
    assert client.get("/grain/prices/").status_code == 200


def test_price_csv_upload_from_the_page_and_refusal_for_depot_staff():
    from django.core.files.uploadedfile import SimpleUploadedFile

    bureau = gf.bureau()
    wh = gf.warehouse(gf.depot(bureau))
    sup = factories.staff_client(gf.supervisor(bureau))
    upload = SimpleUploadedFile("p.csv", "品种,地区,日期,价格\n玉米,华北,2026-11-02,2280\n".encode())
    resp = sup.post("/grain/prices/import/", {"file": upload})
    assert resp.status_code == 302 and Price.objects.count() == 1
    keeper = factories.staff_client(gf.officer(wh.depot))
    upload = SimpleUploadedFile("p.csv", "品种,地区,日期,价格\n玉米,华北,2026-11-03,2290\n".encode())
    keeper.post("/grain/prices/import/", {"file": upload})
    assert Price.objects.count() == 1


def test_ledger_lists_movements_with_running_balance():
    wh = gf.warehouse(variety="corn")
    client = factories.staff_client(gf.officer(wh.depot))
    for kind, gross in (("intake", "40000"), ("outtake", "30000")):
        client.post("/api/grain/movements", {"warehouse": wh.pk, "kind": kind, "vehicle": "浙A2", "gross_kg": gross,
                                             "tare_kg": "15000", "moisture": 14.0, "impurity": 1.0, "grade": 2},
                    content_type="application/json")
    rows = client.get(f"/api/grain/warehouses/{wh.pk}/ledger").json()["results"]
    assert [(r["kind"], Decimal(r["balance_t"])) for r in rows] == [("intake", Decimal("3025.000")),
                                                                    ("outtake", Decimal("3010.000"))]
