"""Where a value sits in clear in the database: every table of every installed model, every column, read
raw (no field decryption). Used to check that personal data (an ID number) is nowhere in clear."""

from django.apps import apps
from django.db import connection


def tables_holding(text: str) -> list[str]:
    """``table.column`` of every column whose raw stored value contains ``text``."""
    needle = text.encode()
    found = []
    seen = set()
    with connection.cursor() as cur:
        for model in apps.get_models(include_auto_created=True):
            table = model._meta.db_table
            if table in seen or not model._meta.managed:
                continue
            seen.add(table)
            cur.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 (table from the models)
            columns = [c[0] for c in cur.description]
            for row in cur.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    raw = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
                    if needle in raw:
                        found.append(f"{table}.{column}")
    return sorted(set(found))
