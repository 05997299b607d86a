"""Telemetry retention (issue 19 point 3): rows older than SMARTGOV_IOT_TELEMETRY_RETENTION_DAYS go, hourly,
by the system only, audited; on PostgreSQL the table is partitioned by UTC month (migration 0003,
docs/adr/0022), whole old months are dropped, and ingest stays idempotent on the partitioned table."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from smartgov.audit.models import AuditEntry
from smartgov.core import partitions
from smartgov.core.errors import Forbidden, InvalidInput
from smartgov.iot import services
from smartgov.iot.models import Telemetry

from .factories import SYS, T0, admin, device, ingest, reading

pytestmark = pytest.mark.django_db
DAY = 86_400
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="declarative partitioning is PostgreSQL's")


@pytest.fixture
def retention(settings):
    settings.IOT_TELEMETRY_RETENTION_DAYS = 400
    return 400


def _ages_left():
    return sorted(round((T0 - ts).total_seconds() / DAY) for ts in Telemetry.objects.values_list("ts", flat=True))


def test_rows_past_the_retention_go_and_the_rest_stay(retention):
    meter = device()
    ingest(reading(meter, -500 * DAY, activePower=1.0), reading(meter, -401 * DAY, activePower=2.0),
           reading(meter, -399 * DAY, activePower=3.0), reading(meter, -10 * DAY, activePower=4.0))
    done = services.expire_telemetry(actor=SYS, today=T0.date())
    assert done["cutoff"] == (T0.date() - timedelta(days=400)).isoformat()
    assert done["deleted"] == 2
    assert _ages_left() == [10, 399]
    entry = AuditEntry.objects.get(action="iot.telemetry.expire")
    assert entry.actor.startswith("system") and json.loads(entry.changes)["rows"] == 2
    # again: nothing more to do, no second audit entry
    assert services.expire_telemetry(actor=SYS, today=T0.date())["deleted"] == 0
    assert AuditEntry.objects.filter(action="iot.telemetry.expire").count() == 1


def test_a_retention_below_the_minimum_is_refused_and_nothing_changes(settings):
    settings.IOT_TELEMETRY_RETENTION_DAYS = 30
    meter = device()
    ingest(reading(meter, -200 * DAY, activePower=1.0))
    with pytest.raises(InvalidInput) as exc:
        services.expire_telemetry(actor=SYS, today=T0.date())
    assert exc.value.code == "retention_too_short"
    assert Telemetry.objects.count() == 1
    with pytest.raises(CommandError):
        call_command("iot", "expire")
    assert Telemetry.objects.count() == 1


def test_only_the_system_expires_telemetry(retention):
    meter = device()
    ingest(reading(meter, -500 * DAY, activePower=1.0))
    with pytest.raises(Forbidden):
        services.expire_telemetry(actor=admin(meter.department), today=T0.date())
    assert Telemetry.objects.count() == 1


def test_the_command_expires_once(retention, capsys):
    meter = device()
    ingest(reading(meter, -5000 * DAY, activePower=1.0))  # far older than any cutoff from today's clock
    call_command("iot", "expire")
    assert "遥测数据 1 条" in capsys.readouterr().out
    assert Telemetry.objects.count() == 0


@on_postgresql
def test_telemetry_is_partitioned_by_month_and_ingest_stays_idempotent():
    assert partitions.is_partitioned("iot_telemetry")
    meter = device()
    first = ingest(reading(meter, 0, activePower=1.0))
    again = ingest(reading(meter, 0, activePower=1.0))
    assert (first.stored, again.stored) == (1, 0)
    with connection.cursor() as cur:
        cur.execute("SELECT tableoid::regclass::text FROM iot_telemetry")
        assert cur.fetchone()[0] in {f"iot_telemetry_p{T0:%Y%m}", "iot_telemetry_default"}


@on_postgresql
def test_whole_old_months_are_dropped_with_their_partition(retention):
    meter = device()
    old = T0 - timedelta(days=500)
    ingest(reading(meter, -500 * DAY, activePower=1.0), reading(meter, -500 * DAY + 60, activePower=1.0),
           reading(meter, -10 * DAY, activePower=4.0))
    partitions.ensure_months("iot_telemetry", ahead=0, today=old.date())  # rows move out of DEFAULT
    name = f"iot_telemetry_p{old:%Y%m}"
    assert name in [m.table for m in partitions.months("iot_telemetry")]
    done = services.expire_telemetry(actor=SYS, today=T0.date())
    assert name in done["partitions_dropped"] and done["deleted"] == 2
    assert _ages_left() == [10]
    assert name not in [m.table for m in partitions.months("iot_telemetry")]
