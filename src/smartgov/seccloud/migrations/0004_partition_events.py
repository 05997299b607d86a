"""PostgreSQL: the security events table becomes monthly range partitions of ``day`` (issue 19 point 3;
docs/adr/0022). SQLite keeps the plain table."""

from django.db import migrations

from smartgov.core import partitions


def partition_events(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    partitions.convert_to_monthly("seccloud_event", "day", pk="seq")
    partitions.ensure_months("seccloud_event", ahead=2)


class Migration(migrations.Migration):
    dependencies = [("seccloud", "0003_selfcheck")]

    operations = [migrations.RunPython(partition_events, migrations.RunPython.noop, elidable=False)]
