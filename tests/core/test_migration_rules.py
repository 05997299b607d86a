"""Zero-downtime migration rules (docs/upgrading.md): during a rolling upgrade old and new app servers
run side by side on the migrated schema, so a migration may only *expand* it — a new NOT NULL column
needs a database default (old servers insert rows without it), and removing, renaming or retyping
(contract) waits for a later release whose migration says so with ``CONTRACT = "<why it is safe>"``.
Migrations made before the rule are listed with how they were released."""

from django.db.migrations.loader import MigrationLoader
from django.db.models import NOT_PROVIDED

CONTRACT_OPERATIONS = {"RemoveField", "DeleteModel", "RenameField", "RenameModel", "AlterField",
                       "RemoveConstraint", "RemoveIndex", "AlterModelTable"}

# before the rule (2026-12-05): each was released with the app servers stopped during `migrate`
BEFORE_THE_RULE = {
    ("grain", "0002_scan_stuck_reference"), ("hall", "0002_open_non_workdays"), ("identity", "0002_import_run"),
    ("onestop", "0002_exchange_materials"), ("onestop", "0003_application_query_code"),
    ("trace", "0002_event_identity_and_error_declarations"), ("trace", "0005_nmpa_data_sets"),
}


def _violations():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    found = []
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        if not migration.__module__.startswith("smartgov.") or (app, name) in BEFORE_THE_RULE:
            continue
        created = {op.name.lower() for op in migration.operations if type(op).__name__ == "CreateModel"}
        module = __import__(migration.__module__, fromlist=["x"])
        contract = getattr(module, "CONTRACT", "")
        for op in migration.operations:
            kind = type(op).__name__
            if kind in CONTRACT_OPERATIONS and not contract:
                found.append(f"{app}.{name}: {kind} {getattr(op, 'model_name', '')}.{getattr(op, 'name', '')} "
                             "contracts the schema: move it to a later release and set CONTRACT = '…'")
            if kind == "AddField" and not migration.initial and op.model_name not in created:
                field = op.field
                if not field.null and not field.many_to_many and field.db_default is NOT_PROVIDED:
                    found.append(f"{app}.{name}: AddField {op.model_name}.{op.name} is NOT NULL without "
                                 "db_default: old servers would insert rows without it")
    return found


def test_migrations_only_expand_the_schema_unless_they_say_why_contracting_is_safe():
    assert _violations() == []


def test_the_rule_list_names_only_migrations_that_exist():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    assert BEFORE_THE_RULE <= set(loader.disk_migrations)
