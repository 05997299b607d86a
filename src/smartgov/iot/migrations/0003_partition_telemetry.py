"""PostgreSQL: the telemetry table becomes monthly range partitions of ``ts`` (UTC months), so that
retention (``iot.services.expire_telemetry``) drops whole months (issue 19 point 3; docs/adr/0022).
The unique (device, ts) that makes ingest idempotent holds the partition column and is kept. SQLite
keeps the plain table."""

from django.db import migrations

from smartgov.core import partitions


def partition_telemetry(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    partitions.convert_to_monthly("iot_telemetry", "ts", pk="id")
    partitions.ensure_months("iot_telemetry", ahead=2)


class Migration(migrations.Migration):
    dependencies = [("iot", "0002_alarm_escalated_at_alarm_escalated_to_and_more")]

    operations = [migrations.RunPython(partition_telemetry, migrations.RunPython.noop, elidable=False)]
