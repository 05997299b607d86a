"""The audit tables refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL): append-only at the database.

A database superuser can still switch the trigger off — which is why the chain and the signed
checkpoints exist: `smartgov audit verify` finds what was changed behind the application's back.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION smartgov_audit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit trail is append-only (审计日志只允许追加): % on %', TG_OP, TG_TABLE_NAME;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
  FOR EACH ROW EXECUTE FUNCTION smartgov_audit_append_only();
CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_auditentry
  FOR EACH STATEMENT EXECUTE FUNCTION smartgov_audit_append_only();
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint
  FOR EACH ROW EXECUTE FUNCTION smartgov_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_auditentry;
DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_auditentry;
DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_checkpoint;
DROP FUNCTION IF EXISTS smartgov_audit_append_only();
"""


SQLITE_TABLES = {"audit_auditentry": "audit_entry", "audit_checkpoint": "audit_checkpoint"}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for table, name in SQLITE_TABLES.items():
            for op in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {name}_no_{op.lower()} BEFORE {op} ON {table} BEGIN"
                    f" SELECT RAISE(ABORT, 'audit trail is append-only'); END"
                )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)
    elif schema_editor.connection.vendor == "sqlite":
        for name in SQLITE_TABLES.values():
            for op in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_no_{op}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
