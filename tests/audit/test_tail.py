"""The unsigned tail of the audit trail is bounded (entries and seconds) without a worker, `audit verify`
reports it and fails beyond the bound, and checkpoints published outside the database catch a rollback."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from smartgov.audit import services
from smartgov.audit.models import Checkpoint
from smartgov.audit.selectors import verify_trail
from tests.audit.test_trail import fill


def behind_the_back(sql, params=()):
    """SQL as an intruder with full database access runs it: every append-only trigger switched off."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = replica")
            cur.execute(sql, params)
            cur.execute("SET session_replication_role = DEFAULT")
        else:
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit%'")
            for (name,) in cur.fetchall():
                cur.execute(f'DROP TRIGGER IF EXISTS "{name}"')
            cur.execute(sql, params)

pytestmark = pytest.mark.django_db


@override_settings(AUDIT_CHECKPOINT_EVERY=50, AUDIT_CHECKPOINT_SECONDS=3600)
def test_appends_sign_checkpoints_every_n_entries_and_verify_reports_the_unsigned_tail():
    fill(120)
    assert sorted(Checkpoint.objects.values_list("tree_size", flat=True)) == [50, 100]
    result = verify_trail(workers=1)
    assert result.ok and result.uncovered_entries == 20 and result.uncovered_seconds < 60


@override_settings(AUDIT_CHECKPOINT_EVERY=1000, AUDIT_CHECKPOINT_SECONDS=60)
def test_appends_sign_a_checkpoint_once_the_time_bound_passes(monkeypatch):
    fill(3)
    assert not Checkpoint.objects.exists()
    later = services.time.time_ns() + 61 * 1_000_000_000
    monkeypatch.setattr(services.time, "time_ns", lambda: later)
    fill(1)  # no worker: the append itself signs
    assert Checkpoint.objects.filter(tree_size=4).exists()
    assert verify_trail(workers=1).uncovered_entries == 0


@override_settings(AUDIT_CHECKPOINT_EVERY=50, AUDIT_CHECKPOINT_SECONDS=3600)
def test_a_tail_longer_than_the_bound_fails_verification():
    """An intruder who rewrites the tail must delete the checkpoints that cover it: the tail then exceeds
    the bound. (Before, a tail of up to 999 entries went unsigned and verify said intact.)"""
    fill(120)
    behind_the_back("DELETE FROM audit_checkpoint WHERE tree_size = 100")
    behind_the_back("UPDATE audit_auditentry SET changes = '{\"i\": -1}' WHERE seq = 110")
    result = verify_trail(workers=1)
    assert not result.ok and result.uncovered_entries == 70
    assert any("not covered by a signed checkpoint" in p for p in result.problems)
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())


@override_settings(AUDIT_CHECKPOINT_EVERY=1000, AUDIT_CHECKPOINT_SECONDS=60)
def test_a_tail_spanning_more_seconds_than_the_bound_fails(monkeypatch):
    services._last_checkpoint.clear()
    fill(2)
    behind_the_back("UPDATE audit_auditentry SET at_us = at_us + 3600000000 WHERE seq = 2")
    result = verify_trail(workers=1)
    assert not result.ok and result.uncovered_seconds >= 3600


def test_verify_command_prints_the_uncovered_tail():
    fill(3)
    out = io.StringIO()
    call_command("audit", "verify", "--json", stdout=out)
    body = json.loads(out.getvalue())
    assert body["uncovered_entries"] >= 1 and "uncovered_seconds" in body


@pytest.mark.django_db(transaction=True, available_apps=["django.contrib.contenttypes", "django.contrib.auth",
                                                         "smartgov.core", "smartgov.accounts"])
def test_published_checkpoints_catch_a_rollback_of_the_whole_database(tmp_path):
    published = tmp_path / "checkpoints.jsonl"
    # audit tables are outside available_apps, so nothing flushes them after this test: put the trail back
    # as it was, or every later test (and the servers the subprocess tests start) meets a rolled-back head
    with connection.cursor() as cur:
        cur.execute("SELECT seq, hash, frontier FROM audit_audithead WHERE id = 1")
        saved = cur.fetchone()
    try:
        _rollback_is_caught(published)
    finally:
        start = saved[0] if saved is not None else 0
        behind_the_back("DELETE FROM audit_auditentry WHERE seq > %s", [start])
        behind_the_back("DELETE FROM audit_checkpoint WHERE tree_size > %s", [start])
        if saved is not None:
            behind_the_back("UPDATE audit_audithead SET seq = %s, hash = %s, frontier = %s WHERE id = 1",
                            [saved[0], saved[1], saved[2]])
        else:  # the head row is made by the first append
            behind_the_back("DELETE FROM audit_audithead WHERE id = 1")
        services._last_checkpoint.clear()
        services._head_cache.clear()


def _rollback_is_caught(published):
    with override_settings(AUDIT_CHECKPOINT_EVERY=10, AUDIT_CHECKPOINT_SECONDS=3600,
                           AUDIT_PUBLISH_FILE=str(published)):
        services._last_checkpoint.clear()
        services._head_cache.clear()
        start = verify_trail(workers=1).entries
        fill(25 - start % 10)
        lines = published.read_text().splitlines()
        assert lines and all(json.loads(line)["signature"] for line in lines)
        assert verify_trail(workers=1).ok
        # roll back: the newest checkpoint and the entries it covers disappear, the head goes back with them
        newest = max(json.loads(line)["tree_size"] for line in lines)
        behind_the_back("DELETE FROM audit_auditentry WHERE seq > %s", [newest - 5])
        behind_the_back("DELETE FROM audit_checkpoint WHERE tree_size >= %s", [newest])
        behind_the_back("UPDATE audit_audithead SET seq = %s, hash = (SELECT hash FROM audit_auditentry WHERE seq = %s)",
                        [newest - 5, newest - 5])
        result = verify_trail(workers=1)
        assert not result.ok and result.published == len(lines)
        assert any("rolled back" in p or "differs" in p for p in result.problems), result.problems
