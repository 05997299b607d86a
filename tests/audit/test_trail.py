import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.test import override_settings

from smartgov.audit.models import AuditEntry, AuditHead, Checkpoint
from smartgov.audit.selectors import verify_trail
from smartgov.audit.services import GENESIS, canonical, cut_checkpoint, entry_hash, record
from smartgov.core.crypto.sm3 import sm3
from smartgov.core.permissions import system_actor

pytestmark = pytest.mark.django_db


def fill(n):
    for i in range(n):
        record(actor=system_actor("test"), action="test.write", target=("test.thing", str(i)), changes={"i": i})


def behind_the_back(sql, params=()):
    """Run SQL the way an intruder with database access would: append-only triggers switched off."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = replica")
            cur.execute(sql, params)
            cur.execute("SET session_replication_role = DEFAULT")
        else:
            cur.execute("DROP TRIGGER IF EXISTS audit_entry_no_update")
            cur.execute("DROP TRIGGER IF EXISTS audit_entry_no_delete")
            cur.execute(sql, params)


def test_entries_chain_by_sm3_and_verify_clean():
    fill(5)
    rows = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in rows] == [1, 2, 3, 4, 5]
    assert bytes(rows[0].hash) == sm3(GENESIS + canonical(rows[0].canonical_row()))
    for prev, cur in itertools.pairwise(rows):
        assert bytes(cur.hash) == sm3(bytes(prev.hash) + canonical(cur.canonical_row()))
        assert bytes(cur.hash) == entry_hash(prev.hash, cur.canonical_row())
    result = verify_trail()
    assert result.ok and result.entries == 5 and result.first_bad_seq is None


def test_entry_rolls_back_with_the_change_it_describes():
    fill(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        record(actor=system_actor("test"), action="test.doomed")
        raise RuntimeError
    assert AuditEntry.objects.count() == 1
    assert verify_trail().ok


def test_personal_values_are_masked_and_secrets_dropped():
    record(actor=system_actor("test"), action="test.pii", changes={"id_number": "11010519491231002X", "password": "hunter2",
                                                   "nested": {"phone": "13812345678"}})
    text = AuditEntry.objects.get().changes
    assert "11010519491231002X" not in text and "hunter2" not in text and "13812345678" not in text
    assert "110" in text and "***" in text


def test_database_refuses_update_and_delete():
    fill(2)
    for sql in ("UPDATE audit_auditentry SET actor = 'x' WHERE seq = 1", "DELETE FROM audit_auditentry"):
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
    assert AuditEntry.objects.count() == 2


def test_altered_row_is_named():
    fill(6)
    behind_the_back("UPDATE audit_auditentry SET target_id = 'forged' WHERE seq = 4")
    result = verify_trail()
    assert not result.ok and result.first_bad_seq == 4


def test_deleted_row_in_the_middle_is_named():
    fill(6)
    behind_the_back("DELETE FROM audit_auditentry WHERE seq = 3")
    result = verify_trail()
    assert not result.ok and result.first_bad_seq == 3


def test_deleted_last_row_is_found_through_the_head():
    fill(6)
    behind_the_back("DELETE FROM audit_auditentry WHERE seq = 6")
    result = verify_trail()
    assert not result.ok and result.first_bad_seq == 6


def test_row_inserted_behind_the_application_is_found():
    fill(3)
    last = AuditEntry.objects.get(seq=3)
    row = (4, last.at_us + 1, None, "intruder", "", None, "test.write", "", "", "", "{}", "", "")
    behind_the_back(
        "INSERT INTO audit_auditentry (seq, at_us, actor_id, actor, actor_role, department_id, action,"
        " target_type, target_id, target_label, changes, ip, request_id, hash)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [*row, entry_hash(last.hash, row)],
    )
    result = verify_trail()
    assert not result.ok and result.first_bad_seq == 4


@override_settings(AUDIT_CHECKPOINT_EVERY=4)
def test_rewritten_chain_is_caught_by_the_signed_checkpoint():
    fill(8)  # checkpoints at 4 and 8
    assert set(Checkpoint.objects.values_list("tree_size", flat=True)) == {4, 8}
    # An intruder alters entry 2 and recomputes every later hash and the head: the chain is consistent
    # again, but the SM2-signed Merkle roots are not.
    behind_the_back("UPDATE audit_auditentry SET actor = 'mallory' WHERE seq = 2")
    prev = AuditEntry.objects.get(seq=1).hash
    for e in AuditEntry.objects.filter(seq__gte=2).order_by("seq"):
        digest = entry_hash(prev, e.canonical_row())
        behind_the_back("UPDATE audit_auditentry SET hash = %s WHERE seq = %s", [digest, e.seq])
        prev = digest
    AuditHead.objects.filter(id=1).update(hash=prev)
    result = verify_trail()
    assert not result.ok and result.first_bad_seq == 4
    assert "Merkle" in result.problems[0]


def test_forged_checkpoint_signature_is_found():
    fill(3)
    cp = cut_checkpoint()
    sig = bytearray(bytes.fromhex(cp.signature))
    sig[-1] ^= 1
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = replica")
        else:
            cur.execute("DROP TRIGGER IF EXISTS audit_checkpoint_no_update")
        cur.execute("UPDATE audit_checkpoint SET signature = %s WHERE tree_size = %s", [sig.hex(), cp.tree_size])
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = DEFAULT")
    result = verify_trail()
    assert not result.ok and "SM2" in result.problems[0]


def test_checkpoint_is_not_cut_twice_at_the_same_size():
    fill(2)
    assert cut_checkpoint().tree_size == 2
    assert cut_checkpoint() is None
    with pytest.raises(IntegrityError), transaction.atomic():
        Checkpoint.objects.create(tree_size=2, root="0", last_hash="0", signed_at="2026-01-01T00:00Z",
                                  key_id="k", signature="00")


def test_verify_command_exit_codes(capsys):
    fill(3)
    call_command("audit", "verify", "--no-progress")
    assert "审计链完好" in capsys.readouterr().out
    behind_the_back("UPDATE audit_auditentry SET action = 'x' WHERE seq = 2")
    with pytest.raises(CommandError) as exc:
        call_command("audit", "verify", "--no-progress")
    assert exc.value.returncode == 1 and "#2" in str(exc.value)


@override_settings(AUDIT_CHECKPOINT_EVERY=5)
@pytest.mark.parametrize("chunk", [1, 2, 4, 8, 64])
def test_chunked_verification_combines_to_the_same_answer(chunk):
    """verify splits large trails into power-of-two chunks (in parallel processes); the combination
    of the chunks' Merkle frontiers must give the same checkpoint roots as one pass."""
    fill(23)  # checkpoints at 5, 10, 15, 20
    result = verify_trail(chunk=chunk, workers=1)
    assert result.ok and result.entries == 23 and result.checkpoints == 4, result.problems
    behind_the_back("UPDATE audit_auditentry SET changes = '{}' WHERE seq = 9")
    result = verify_trail(chunk=chunk, workers=1)
    assert not result.ok and result.first_bad_seq == 9


def test_stale_head_cache_after_rollback_does_not_fork_the_chain():
    fill(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        record(actor=system_actor("test"), action="test.rolled-back")  # the process's cached head now says 3
        raise RuntimeError
    record(actor=system_actor("test"), action="test.after")
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", "action"))[-1] == (3, "test.after")
    assert verify_trail().ok
