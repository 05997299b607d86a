import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from smartgov.accounts.models import User
from smartgov.audit.models import AuditEntry
from smartgov.core.crypto import keys
from smartgov.core.fields import blind_lookup
from smartgov.core.permissions import Role
from tests import factories as f

pytestmark = pytest.mark.django_db


def raw_row(user_id):
    with connection.cursor() as cur:
        cur.execute("SELECT id_number, id_number_bidx, phone FROM accounts_user WHERE id = %s", [user_id])
        return cur.fetchone()


def test_id_number_is_stored_as_sm4_ciphertext_with_a_blind_index():
    idn = f.id_number("19851231")
    citizen = f.user(Role.CITIZEN, id_number=idn, phone="13812345678")
    stored_id, bidx, stored_phone = raw_row(citizen.pk)
    assert idn not in stored_id and "13812345678" not in stored_phone
    assert stored_id.startswith("v2:")  # the newest key version encrypts
    assert User.objects.get(pk=citizen.pk).id_number == idn
    assert User.objects.get(**blind_lookup(User, "id_number", idn.lower())).pk == citizen.pk
    assert len(bidx) == 64


def test_old_key_versions_stay_readable_and_saving_re_encrypts(monkeypatch):
    idn = f.id_number()
    version1 = [k for k in os.environ["SMARTGOV_MASTER_KEYS"].split(",") if k.startswith("1:")]
    monkeypatch.setenv("SMARTGOV_MASTER_KEYS", version1[0])
    keys.reset_key_cache()
    citizen = f.user(Role.CITIZEN, id_number=idn)
    assert raw_row(citizen.pk)[0].startswith("v1:")
    monkeypatch.undo()
    keys.reset_key_cache()
    again = User.objects.get(pk=citizen.pk)
    assert again.id_number == idn and keys.needs_reencrypt(raw_row(citizen.pk)[0])
    again.save()
    assert raw_row(citizen.pk)[0].startswith("v2:")
    assert User.objects.get(**blind_lookup(User, "id_number", idn)).pk == citizen.pk  # index survives rotation


def test_api_masks_personal_data_and_audits_every_reveal():
    dept = f.department()
    idn = f.id_number("19700101")
    officer = f.user(Role.OFFICER, department=dept, id_number=idn, phone="13912345678")
    admin = f.staff_client(f.user(Role.DEPT_ADMIN, department=dept))
    shown = admin.get(f"/api/accounts/users/{officer.pk}").json()
    assert shown["id_number"] == idn[:6] + "********" + idn[-4:]
    assert shown["phone"] == "139****5678"
    before = AuditEntry.objects.filter(action="accounts.personal_data.view").count()
    clear = admin.post(f"/api/accounts/users/{officer.pk}/personal-data").json()
    assert clear == {"id_number": idn, "phone": "13912345678"}
    assert AuditEntry.objects.filter(action="accounts.personal_data.view", target_id=str(officer.pk)).count() \
        == before + 1


def test_supervisor_sees_masked_values_only():
    dept = f.department()
    officer = f.user(Role.OFFICER, department=dept, id_number=f.id_number())
    sup = f.staff_client(f.user(Role.SUPERVISOR, department=dept))
    assert "*" in sup.get(f"/api/accounts/users/{officer.pk}").json()["id_number"]
    assert sup.post(f"/api/accounts/users/{officer.pk}/personal-data").status_code == 403


def test_invalid_id_number_is_refused_and_nothing_is_written():
    before = (User.objects.count(), AuditEntry.objects.count())
    client = f.staff_client(f.user(Role.SYSADMIN))
    before = (User.objects.count(), AuditEntry.objects.count())
    resp = client.post("/api/accounts/users", {"username": "bad-id", "role": "citizen",
                                               "id_number": "110105194912310021"},
                       content_type="application/json")
    assert resp.status_code == 422
    body = resp.json()
    assert body["code"] == "invalid_input" and "id_number" in body["detail"]
    assert (User.objects.count(), AuditEntry.objects.count()) == before


@pytest.mark.skipif(connection.vendor != "sqlite", reason="scans the SQLite database file")
def test_id_number_never_in_clear_in_the_database_file(tmp_path):
    """Load the demo into a real on-disk SQLite database and search its bytes (and the WAL)."""
    env = {"SMARTGOV_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin",
           "SMARTGOV_MASTER_KEYS": f"1:{'ab' * 32}", "SECRET_KEY": "test-only"}
    for cmd in (["setup", "--no-static"], ["demo"]):
        subprocess.run([sys.executable, "-m", "smartgov", *cmd], env=env, check=True, capture_output=True)
    from smartgov.accounts.demo import USERS, _id_number

    data = b"".join(p.read_bytes() for p in Path(tmp_path).glob("smartgov.sqlite3*"))
    assert b"accounts_user" in data  # it is the database we think it is
    for _, _, _, _, id17, phone in USERS:
        if id17:
            assert _id_number(id17).encode() not in data
            assert id17[:14].encode() not in data  # not even the birth-date part
        if phone:
            assert phone.encode() not in data
    # the demo's licences were published on the exchange as they were issued (licence.issued, the holder's
    # ID number the subject) and delivered: the subjects are encrypted, and the smart demo's people too
    import sqlite3

    from django.utils import timezone

    from smartgov.smart.demo import id_number_born, years_ago

    db = sqlite3.connect(Path(tmp_path) / "smartgov.sqlite3")
    try:
        rows = db.execute("SELECT subject, subject_id_number, subject_id_number_bidx FROM exchange_event"
                          " WHERE event_type = 'licence.issued'").fetchall()
        delivered = db.execute("SELECT count(*) FROM exchange_delivery WHERE status = 'delivered'").fetchone()[0]
    finally:
        db.close()
    assert len(rows) >= 2 and delivered >= 2
    assert all("*" in subject and stored.startswith("v") and len(bidx) == 64 for subject, stored, bidx in rows)
    today = timezone.localdate()
    for years, seq in ((80, 11), (92, 22), (101, 33), (79, 44)):
        idn = id_number_born(years_ago(today, years), seq)
        assert idn.encode() not in data and idn[:14].encode() not in data


def test_reencrypt_command_moves_old_rows_to_the_current_key(monkeypatch):
    from django.core.management import call_command

    version1 = [k for k in os.environ["SMARTGOV_MASTER_KEYS"].split(",") if k.startswith("1:")]
    monkeypatch.setenv("SMARTGOV_MASTER_KEYS", version1[0])
    keys.reset_key_cache()
    old = f.user(Role.CITIZEN, id_number=f.id_number(), phone="13712345678")
    monkeypatch.undo()
    keys.reset_key_cache()
    fresh = f.user(Role.CITIZEN, id_number=f.id_number())
    call_command("reencrypt")
    assert raw_row(old.pk)[0].startswith("v2:") and raw_row(old.pk)[2].startswith("v2:")
    assert User.objects.get(pk=old.pk).phone == "13712345678"
    assert AuditEntry.objects.filter(action="core.reencrypt").count() == 1  # only the stale row's batch
    assert raw_row(fresh.pk)[0].startswith("v2:")
