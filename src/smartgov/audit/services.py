"""Writing the audit trail. ``record`` is called by every service function, inside its transaction,
so an entry commits or rolls back with the change it describes."""

import os
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from smartgov.core.crypto.sm3 import sm3
from smartgov.core.logs import request_id
from smartgov.core.masking import mask
from smartgov.core.merkle import Frontier
from smartgov.core.permissions import is_system, require

from .chain import GENESIS, checkpoint_message
from .context import current
from .models import AuditEntry, AuditHead, Checkpoint, Verification
from .selectors import verify_trail
from .signing import signing_key

# Keys whose values never enter the trail in clear (个人信息): masked, or dropped for secrets.
SECRET_KEYS = frozenset({"password", "totp_secret", "secret", "otp", "token", "api_key"})
PERSONAL_KEYS = frozenset({"id_number", "phone", "mobile"})


def _json_default(value):
    if isinstance(value, Decimal | datetime):
        return str(value)
    if hasattr(value, "pk"):
        return value.pk
    return str(value)


def _redact(changes: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in changes.items():
        if key in SECRET_KEYS:
            out[key] = "***"
        elif key in PERSONAL_KEYS and isinstance(value, str):
            out[key] = mask(value, 3, 4)
        elif isinstance(value, dict):
            out[key] = _redact(value)
        else:
            out[key] = value
    return out


def canonical(row: tuple) -> bytes:
    """Canonical bytes of an entry: the hashed fields in a fixed order as a JSON array.

    ``row`` is (seq, at_us, actor_id, actor, actor_role, department_id, action, target_type,
    target_id, target_label, changes, ip, request_id) — the column order ``verify`` reads.
    """
    return orjson.dumps(row)


def entry_hash(prev_hash: bytes, row: tuple) -> bytes:
    return sm3(bytes(prev_hash) + canonical(row))


def _target_fields(target) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    if isinstance(target, tuple):
        ttype, tid, *rest = target
        return str(ttype), str(tid), str(rest[0]) if rest else ""
    meta = target._meta
    return f"{meta.app_label}.{meta.model_name}", str(target.pk), str(target)[:200]


_HEAD_TABLE = AuditHead._meta.db_table
_ENTRY_TABLE = AuditEntry._meta.db_table
_INSERT = (
    f"INSERT INTO {_ENTRY_TABLE} (seq, at_us, actor_id, actor, actor_role, department_id, action,"  # noqa: S608 (table name from the model)
    " target_type, target_id, target_label, changes, ip, request_id, hash)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
# Advance the head only if it is still what this process last saw; otherwise re-read it under a lock.
_ADVANCE = (f"UPDATE {_HEAD_TABLE} SET seq = %s, hash = %s, frontier = %s"  # noqa: S608
            " WHERE id = 1 AND seq = %s AND hash = %s")

# Per-process copy of the head, so an append costs two statements (UPDATE + INSERT) instead of three.
# It is only a guess: _ADVANCE's WHERE clause checks it against the row, under the row's write lock.
_head_cache: dict[str, tuple[int, bytes, Frontier]] = {}


def _read_head(cur) -> tuple[int, bytes, Frontier]:
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    cur.execute(f"SELECT seq, hash, frontier FROM {_HEAD_TABLE} WHERE id = 1{lock}")  # noqa: S608
    row = cur.fetchone()
    if row is None:
        cur.execute(f"INSERT INTO {_HEAD_TABLE} (id, seq, hash, frontier) VALUES (1, 0, %s, %s)",  # noqa: S608
                    [GENESIS, b""])
        return 0, GENESIS, Frontier()
    return row[0], bytes(row[1]), Frontier.loads(row[0], row[2])


def record(*, actor, action: str, target=None, changes: dict[str, Any] | None = None,
           actor_label: str = "") -> int:
    """Append one audit entry and return its sequence number.

    ``actor`` is a user or a ``core.permissions.SystemActor`` (recorded as ``system:<name>``); ``target`` a model instance or a
    ``(type, id[, label])`` tuple; ``changes`` a dict (personal values are masked, secrets dropped).
    Joins the caller's transaction (opens one if there is none), so the entry commits or rolls back
    with the change it describes.
    """
    ctx = current.get()
    ttype, tid, tlabel = _target_fields(target)
    if is_system(actor):
        actor_id, label, role, dept = None, actor_label or actor.get_username(), "system", None
    elif getattr(actor, "is_authenticated", False):
        actor_id, label = actor.pk, actor_label or actor.get_username()
        role, dept = getattr(actor, "role", ""), getattr(actor, "department_id", None)
    else:
        actor_id, label, role, dept = None, actor_label or "system", "", None
    body = orjson.dumps(_redact(changes) if changes else {}, default=_json_default,
                        option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()
    cache_key = connection.alias + ":" + str(connection.settings_dict["NAME"])
    at_us = time.time_ns() // 1000

    def advance(head):
        seq, prev, frontier = head
        row = (seq + 1, at_us, actor_id, label[:150], role, dept, action, ttype[:64], tid[:64], tlabel[:200],
               body, ctx.ip, request_id.get()[:32])
        digest = entry_hash(prev, row)
        frontier = frontier.copy()
        frontier.append(digest)
        cur.execute(_ADVANCE, [seq + 1, digest, frontier.dumps(), seq, prev])
        return cur.rowcount == 1, row, digest, frontier

    with transaction.atomic(savepoint=False), connection.cursor() as cur:
        head = _head_cache.get(cache_key) or _read_head(cur)
        ok, row, digest, frontier = advance(head)
        if not ok:  # stale guess: another process appended, or our own last append was rolled back
            ok, row, digest, frontier = advance(_read_head(cur))
            if not ok:
                raise RuntimeError("the audit head changed while this transaction held its lock")
        cur.execute(_INSERT, [*row, digest])
        seq = row[0]
        _head_cache[cache_key] = (seq, digest, frontier)
        if _checkpoint_due(cur, cache_key, seq, at_us):
            _sign_checkpoint(seq, frontier.root().hex(), digest.hex())
            _last_checkpoint[cache_key] = (seq, at_us)
    return seq


# Per-process memory of the last signed checkpoint: (tree size, time in µs). Read from the table once.
_last_checkpoint: dict[str, tuple[int, int]] = {}


def _checkpoint_due(cur, cache_key: str, seq: int, at_us: int) -> bool:
    """A checkpoint is signed by the append itself — no separate worker needs to run — once
    AUDIT_CHECKPOINT_EVERY entries or AUDIT_CHECKPOINT_SECONDS seconds have passed since the last one.
    So the unsigned tail of the trail (which someone able to write the database could rewrite with the
    chain recomputed) is never longer than either bound, measured in entry times; ``verify`` checks it."""
    every, seconds = settings.AUDIT_CHECKPOINT_EVERY, settings.AUDIT_CHECKPOINT_SECONDS
    if not every and not seconds:
        return False
    last = _last_checkpoint.get(cache_key)
    if last is None or last[0] >= seq:  # first append of this process, or the cache is from a rolled-back one
        cur.execute(f"SELECT tree_size, signed_at FROM {Checkpoint._meta.db_table}"  # noqa: S608
                    " ORDER BY tree_size DESC LIMIT 1")
        row = cur.fetchone()
        if row is None:  # no checkpoint yet: the clock runs from the first entry
            cur.execute(f"SELECT at_us FROM {_ENTRY_TABLE} WHERE seq = 1")  # noqa: S608
            first = cur.fetchone()
            last = (0, first[0] if first else at_us)
        else:
            signed = row[1] if isinstance(row[1], datetime) else datetime.fromisoformat(str(row[1]))
            last = (row[0], int(signed.replace(tzinfo=signed.tzinfo or UTC).timestamp() * 1_000_000))
        _last_checkpoint[cache_key] = last
    return bool((every and seq - last[0] >= every) or (seconds and at_us - last[1] >= seconds * 1_000_000))


def _sign_checkpoint(size: int, root: str, last_hash: str) -> Checkpoint:
    key = signing_key()
    message = checkpoint_message(size, root, last_hash)
    cp = Checkpoint.objects.create(
        tree_size=size, root=root, last_hash=last_hash, signed_at=datetime.now(UTC),
        key_id=key.public_key().key_id(), signature=key.sign(message).hex(),
    )
    if settings.AUDIT_PUBLISH_FILE:
        transaction.on_commit(lambda: publish_checkpoint(cp))
    return cp


def publish_checkpoint(cp: Checkpoint) -> None:
    """Append a signed checkpoint to AUDIT_PUBLISH_FILE (one JSON line each), outside the database — e.g. on
    write-once storage or another machine's mount — so that rolling the whole database back is detected:
    ``verify`` finds every published checkpoint in the table, with the same root, and no head behind it."""
    line = orjson.dumps({"tree_size": cp.tree_size, "root": cp.root, "last_hash": cp.last_hash,
                         "signed_at": cp.signed_at.isoformat(), "key_id": cp.key_id, "signature": cp.signature})
    with open(settings.AUDIT_PUBLISH_FILE, "ab") as fh:
        fh.write(line + b"\n")
        fh.flush()
        os.fsync(fh.fileno())


def cut_checkpoint() -> Checkpoint | None:
    """Sign a checkpoint at the current head (``smartgov audit checkpoint``, and the worker's timer)."""
    with transaction.atomic():
        head = AuditHead.objects.select_for_update().filter(id=1).first()
        if head is None or head.seq == 0 or Checkpoint.objects.filter(tree_size=head.seq).exists():
            return None
        frontier = Frontier.loads(head.seq, head.frontier)
        return _sign_checkpoint(head.seq, frontier.root().hex(), bytes(head.hash).hex())


def verify_and_keep(*, actor, workers: int | None = 1, progress=None):
    """Verify the whole trail (``selectors.verify_trail``) and keep the result (``Verification``, with its audit
    entry ``audit.verify``), which screens read instead of verifying again. The verification runs outside any
    transaction (it may fork workers and takes seconds at millions of entries); only the result is written in one.
    Returns the ``VerifyResult``."""
    require(actor, "audit.verify")
    result = verify_trail(workers=workers, progress=progress)
    with transaction.atomic():
        kept = Verification.objects.create(
            checked_at=timezone.now(), ok=result.ok, entries=result.entries, checkpoints=result.checkpoints,
            first_bad_seq=result.first_bad_seq, problems=result.problems[:20], uncovered_entries=result.uncovered_entries,
            seconds=round(result.seconds, 3), actor=(actor.get_username() if hasattr(actor, "get_username") else str(actor))[:150])
        record(actor=actor, action="audit.verify", target=kept,
               changes={"ok": result.ok, "entries": result.entries, "checkpoints": result.checkpoints,
                        "first_bad_seq": result.first_bad_seq})
    return result
