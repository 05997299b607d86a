"""Consumer keys: a department's system calls the exchange with ``X-Exchange-Key: sgx_<prefix>_<secret>``.
Only the SM3 digest of the key is stored; the key is shown once."""

import secrets
from functools import cache

from django.db import connection, transaction

from smartgov.accounts.models import Department
from smartgov.audit.services import record
from smartgov.core.crypto.sm3 import sm3_hex
from smartgov.core.errors import InvalidInput
from smartgov.core.permissions import is_system, require

from ..models import ConsumerKey


def _digest(key: str) -> str:
    return sm3_hex(key.encode())


@transaction.atomic
def issue_key(*, actor, label: str, department=None) -> tuple[ConsumerKey, str]:
    department = department if is_system(actor) else getattr(actor, "department", None)
    if department is None:
        raise InvalidInput("密钥须属于一个部门", code="department_required")
    require(actor, "exchange.manage_key", department=department, include_descendants=False)
    label = (label or "").strip()
    if not label or len(label) > 100:
        raise InvalidInput("请填写密钥说明（不超过100字）", code="label_required")
    prefix = secrets.token_hex(6)
    key = f"sgx_{prefix}_{secrets.token_urlsafe(24)}"
    ck = ConsumerKey.objects.create(department=department, prefix=prefix, key_hash=_digest(key), label=label,
                                    created_by=actor.get_username())
    record(actor=actor, action="exchange.key.issue", target=ck, changes={"department": department.pk, "label": label})
    return ck, key


@transaction.atomic
def revoke_key(*, actor, key: ConsumerKey) -> ConsumerKey:
    require(actor, "exchange.manage_key", department=key.department, include_descendants=False, hide=True)
    key.active = False
    key.save(update_fields=["active"])
    record(actor=actor, action="exchange.key.revoke", target=key)
    return key


def _partial(model, **values):
    """A model instance loaded with these fields only (the others are deferred: read from the database if
    ever touched), as a queryset would build it."""
    return model.from_db(connection.alias, list(values),
                         [values[f.attname] for f in model._meta.concrete_fields if f.attname in values])


@cache
def _key_sql() -> str:
    k, d = connection.ops.quote_name(ConsumerKey._meta.db_table), connection.ops.quote_name(Department._meta.db_table)
    return (f"SELECT k.id, k.key_hash, k.department_id, d.code, d.name FROM {k} k "  # noqa: S608 (names from the models)
            f"JOIN {d} d ON d.id = k.department_id WHERE k.prefix = %s AND k.active = %s")


def authenticate_key(raw: str) -> ConsumerKey | None:
    """The active key ``raw`` is, with its department, or None. Every call reads the key afresh (one
    SELECT written once, no cache), so a revoked key stops at once."""
    parts = (raw or "").split("_", 2)
    if len(parts) != 3 or parts[0] != "sgx":
        return None
    with connection.cursor() as cur:
        cur.execute(_key_sql(), [parts[1], True])
        row = cur.fetchone()
    if row is None or not secrets.compare_digest(row[1], _digest(raw)):
        return None
    ck = _partial(ConsumerKey, id=row[0], department_id=row[2], prefix=parts[1], key_hash=row[1], active=True)
    ck.department = _partial(Department, id=row[2], code=row[3], name=row[4])
    return ck
