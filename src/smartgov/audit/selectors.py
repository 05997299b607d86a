"""Reads of the audit trail: the integrity check and the filtered listing the audit admin uses."""

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_context

import orjson
from django.conf import settings
from django.db import connection, connections
from django.db.models import Count, Q
from django.utils import timezone

from smartgov.core.crypto.sm3 import new_sm3
from smartgov.core.indicators import check_scope, day_starts, indicator
from smartgov.core.merkle import Frontier, frontier_at, subtree_levels

from .chain import GENESIS, checkpoint_message
from .models import AuditEntry, AuditHead, Checkpoint, Verification
from .signing import trusted_keys

_COLUMNS = ("seq, at_us, actor_id, actor, actor_role, department_id, action, target_type, target_id,"
            " target_label, changes, ip, request_id, hash")
CHUNK = 1 << 14  # rows per unit of work: a power of two, so each full chunk is one Merkle subtree
MAX_PROBLEMS = 20


@dataclass
class VerifyResult:
    ok: bool
    entries: int = 0
    checkpoints: int = 0
    first_bad_seq: int | None = None
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 1
    # the tail no signed checkpoint covers yet: how many entries, and how many seconds they span
    uncovered_entries: int = 0
    uncovered_seconds: float = 0.0
    published: int = 0

    def fail(self, seq: int | None, message: str) -> None:
        self.ok = False
        if seq is not None and (self.first_bad_seq is None or seq < self.first_bad_seq):
            self.first_bad_seq = seq
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(message)


@dataclass
class ChunkResult:
    """What one chunk [start, start + size) tells about itself; combined in order by ``verify_trail``."""

    start: int
    count: int = 0
    last_seq: int = 0
    last_hash: bytes = b""
    frontier: Frontier = field(default_factory=Frontier)
    at_checkpoints: dict[int, tuple[list[bytes], bytes]] = field(default_factory=dict)
    problems: list[tuple[int, str]] = field(default_factory=list)


# A checkpoint as the workers see it: tree_size → (root hex, last hash hex, key id, signature hex).
CheckpointRow = tuple[str, str, str, str]


def verify_chunk(start: int, size: int, checkpoints: dict[int, CheckpointRow], merkle_until: int) -> ChunkResult:
    """Check the chain inside entries [start, start + size) — and the link into it from entry start-1 —
    build the Merkle frontier of the chunk's hashes (RFC 6962 subtrees), remembering it at every
    checkpoint inside, and check those checkpoints' SM2 signatures. Runs in a worker process for large
    trails; the roots are compared when the chunks are combined."""
    out = ChunkResult(start=start)
    inside = {n: cp for n, cp in checkpoints.items() if start <= n < start + size}
    if inside:
        keys = trusted_keys()
        for n, cp in inside.items():
            if problem := _signature_problem(n, cp, keys):
                out.problems.append((n, problem))
    table = AuditEntry._meta.db_table
    dumps = orjson.dumps
    new_hash = new_sm3
    with connection.cursor() as cur:
        prev = GENESIS
        if start > 1:
            cur.execute(f"SELECT hash FROM {table} WHERE seq = %s", [start - 1])  # noqa: S608
            row = cur.fetchone()
            prev = bytes(row[0]) if row else None
        cur.execute(f"SELECT {_COLUMNS} FROM {table} WHERE seq >= %s AND seq < %s ORDER BY seq",  # noqa: S608
                    [start, start + size])
        expected = start
        problems = out.problems
        merkle_leaves: list[bytes] = []
        while rows := cur.fetchmany(10_000):
            for row in rows:
                seq = row[0]
                stored = row[13]  # bytes from both sqlite3 (BLOB) and psycopg (bytea)
                if seq != expected:
                    problems.append((expected, f"第 {expected}–{seq - 1} 条缺失（被删除）"
                                               f" / entries #{expected}–#{seq - 1} are missing (deleted)"))
                    prev = None
                if prev is None:
                    problems.append((seq, f"第 {seq} 条无法与前一条链接 / entry #{seq}: no previous entry to chain to"))
                else:
                    h = new_hash()  # services.entry_hash, inlined: this loop is the hot path
                    h.update(prev)
                    h.update(dumps(row[:13]))
                    if h.digest() != stored:
                        problems.append((seq, f"第 {seq} 条内容被篡改或链接断裂（插入、删除或改写）"
                                              f" / entry #{seq}: hash mismatch (altered, inserted or deleted)"))
                if seq <= merkle_until:
                    merkle_leaves.append(stored)
                prev = stored
                expected = seq + 1
            if len(problems) > MAX_PROBLEMS:
                break
        # Merkle: the chunk starts at a multiple of its (power-of-two) size, so its subtrees are aligned.
        levels = subtree_levels(merkle_leaves)
        for size in inside:
            if size < start + len(merkle_leaves):
                out.at_checkpoints[size] = (frontier_at(levels, size - start + 1), merkle_leaves[size - start])
        out.frontier = Frontier(len(merkle_leaves), frontier_at(levels, len(merkle_leaves)))
        out.count = expected - start
        out.last_seq = expected - 1
        out.last_hash = prev or b""
    return out


def _run_chunk(args):
    try:
        return verify_chunk(*args)
    finally:
        connections.close_all()


def verify_trail(*, progress: Callable[[int], None] | None = None, workers: int | None = None,
                 chunk: int = CHUNK) -> VerifyResult:
    """Re-compute the hash chain and every signed checkpoint from the rows in the database.

    Finds rows altered (hash mismatch), deleted (gap in the sequence, a broken link, or a head ahead
    of the last row), inserted behind the application's back (a broken link, or rows beyond the
    head), and checkpoints whose Merkle root or SM2 signature does not match. Large trails are split
    into chunks checked in parallel, one process per core (``workers``).
    """
    started = time.perf_counter()
    result = VerifyResult(ok=True)
    head = AuditHead.objects.filter(id=1).first()
    with connection.cursor() as cur:
        cur.execute(f"SELECT MAX(seq) FROM {AuditEntry._meta.db_table}")  # noqa: S608
        max_seq = cur.fetchone()[0] or 0
    last = max(max_seq, head.seq if head else 0)
    cps = {c.tree_size: c for c in Checkpoint.objects.all()}
    rows = {n: (c.root, c.last_hash, c.key_id, c.signature) for n, c in cps.items()}
    merkle_until = max(rows, default=0)
    jobs = [(start, chunk, rows, merkle_until) for start in range(1, last + 1, chunk)]
    if workers is None:
        workers = min(os.cpu_count() or 1, len(jobs)) if last >= 2 * chunk and _can_fork() else 1
    result.workers = workers
    if workers > 1:
        connections.close_all()  # never share a database connection with forked children
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
            chunks = pool.map(_run_chunk, jobs)
            _combine(result, chunks, cps, progress)
    else:
        _combine(result, (verify_chunk(*job) for job in jobs), cps, progress)
    _check_head(result, head, max_seq, cps)
    _check_tail(result, max_seq, cps)
    _check_published(result, max_seq, cps)
    result.seconds = time.perf_counter() - started
    return result


def _combine(result: VerifyResult, chunks, cps, progress) -> None:
    frontier = Frontier()
    for c in chunks:
        for seq, message in c.problems:
            result.fail(seq, message)
        for size, (nodes, last_hash) in sorted(c.at_checkpoints.items()):
            partial = Frontier(frontier.size, frontier.nodes + nodes)
            _check_root(result, cps[size], partial, last_hash)
        frontier.extend(c.frontier)
        result.entries += c.count
        if progress:
            progress(c.count)


def _can_fork() -> bool:
    """Worker processes need a database they can open themselves (not an in-memory SQLite)."""
    name = str(connection.settings_dict["NAME"])
    in_memory = connection.vendor == "sqlite" and ("memory" in name or not name)
    return "fork" in multiprocessing.get_all_start_methods() and not in_memory


def _check_head(result: VerifyResult, head, max_seq: int, cps) -> None:
    for size in sorted(cps):
        if size > max_seq:
            result.fail(max_seq + 1, f"检查点 {size} 覆盖的条目在表中不存在（被删除）"
                                     f" / checkpoint {size} covers entries that are gone (deleted)")
            break
    if head is None:
        if max_seq:
            result.fail(1, "审计链头丢失 / the audit chain head is missing")
        return
    if head.seq > max_seq:
        result.fail(max_seq + 1, f"末尾 {head.seq - max_seq} 条被删除 / the last {head.seq - max_seq} entries were deleted")
    elif head.seq < max_seq:
        result.fail(head.seq + 1, f"第 {head.seq + 1} 条起不是由应用写入（链头为 {head.seq}）"
                                  f" / entries after #{head.seq} were not written by the application")
    else:
        with connection.cursor() as cur:
            cur.execute(f"SELECT hash FROM {AuditEntry._meta.db_table} WHERE seq = %s", [max_seq])  # noqa: S608
            row = cur.fetchone()
        if row is not None and bytes(row[0]) != bytes(head.hash):
            result.fail(max_seq, f"第 {max_seq} 条与链头不符 / entry #{max_seq} does not match the chain head")


TAIL_SLACK_SECONDS = 5  # appends of several processes take their time before the head lock


def _check_tail(result: VerifyResult, max_seq: int, cps) -> None:
    """The entries after the last signed checkpoint are protected by the hash chain only: someone able to
    write the database could rewrite them with the chain recomputed. ``record`` keeps that tail within
    AUDIT_CHECKPOINT_EVERY entries and AUDIT_CHECKPOINT_SECONDS seconds; a longer one means checkpoints
    were removed (or signing was switched off), and fails."""
    covered = max(cps, default=0)
    result.uncovered_entries = max(max_seq - covered, 0)
    if not result.uncovered_entries:
        return
    with connection.cursor() as cur:
        cur.execute(f"SELECT MIN(at_us), MAX(at_us) FROM {AuditEntry._meta.db_table} WHERE seq > %s",  # noqa: S608
                    [covered])
        first, last = cur.fetchone()
    result.uncovered_seconds = round(((last or 0) - (first or 0)) / 1_000_000, 3)
    every, seconds = settings.AUDIT_CHECKPOINT_EVERY, settings.AUDIT_CHECKPOINT_SECONDS
    if every and result.uncovered_entries > every:
        result.fail(covered + 1, f"末尾 {result.uncovered_entries} 条没有签名检查点覆盖（上限 {every} 条）"
                                 f" / {result.uncovered_entries} entries are not covered by a signed checkpoint"
                                 f" (bound {every})")
    elif seconds and result.uncovered_seconds > seconds + TAIL_SLACK_SECONDS:
        result.fail(covered + 1, f"末尾未签名的条目跨越 {result.uncovered_seconds:.0f} 秒（上限 {seconds} 秒）"
                                 f" / the unsigned tail spans {result.uncovered_seconds:.0f} s (bound {seconds} s)")


def _check_published(result: VerifyResult, max_seq: int, cps) -> None:
    """Checkpoints published outside the database (AUDIT_PUBLISH_FILE) must all be in the table, unchanged,
    and the trail must reach them: otherwise the database was rolled back or its checkpoints replaced."""
    path = settings.AUDIT_PUBLISH_FILE
    if not path or not os.path.exists(path):
        return
    with open(path, "rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                pub = orjson.loads(line)
                size = int(pub["tree_size"])
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                result.fail(None, f"外部发布文件中有无法解析的行 / unreadable line in {path}")
                continue
            result.published += 1
            cp = cps.get(size)
            if size > max_seq:
                result.fail(max_seq + 1, f"外部发布的检查点 {size} 超出表中条目（数据库被回滚或删除）"
                                         f" / published checkpoint {size} is beyond the trail (rolled back?)")
            elif cp is None or cp.root != pub.get("root") or cp.signature != pub.get("signature"):
                result.fail(size, f"外部发布的检查点 {size} 与数据库不符 / published checkpoint {size} differs"
                                  f" from the database")


def _check_root(result: VerifyResult, cp, frontier: Frontier, last_hash: bytes) -> None:
    result.checkpoints += 1
    if frontier.root().hex() != cp.root or cp.last_hash != last_hash.hex():
        result.fail(cp.tree_size, f"检查点 {cp.tree_size} 的Merkle根不符（其之前的条目被改写）"
                                  f" / checkpoint {cp.tree_size}: Merkle root mismatch")


def _signature_problem(size: int, cp: CheckpointRow, keys) -> str | None:
    root, last_hash, key_id, signature = cp
    key = keys.get(key_id)
    if key is None:
        return f"检查点 {size} 的签名密钥 {key_id} 不受信任 / checkpoint {size}: unknown signing key"
    if not key.verify(bytes.fromhex(signature), checkpoint_message(size, root, last_hash)):
        return f"检查点 {size} 的SM2签名无效 / checkpoint {size}: bad signature"
    return None


def entry_count() -> int:
    head = AuditHead.objects.filter(id=1).first()
    return head.seq if head else 0


def list_entries(*, action: str = "", actor: str = "", target_type: str = "", target_id: str = "",
                 since: datetime | None = None, until: datetime | None = None):
    qs = AuditEntry.objects.all()
    if action:
        qs = qs.filter(action__startswith=action)
    if actor:
        qs = qs.filter(actor__icontains=actor)
    if target_type:
        qs = qs.filter(target_type=target_type)
    if target_id:
        qs = qs.filter(target_id=target_id)
    if since:
        qs = qs.filter(at_us__gte=int(since.timestamp() * 1_000_000))
    if until:
        qs = qs.filter(at_us__lt=int(until.timestamp() * 1_000_000))
    return qs


def indicators(*, actor, department) -> list[dict]:
    """Audited actions today by staff of ``department`` and below (one query; docs/overview.md). The trail
    itself stays with the audit administrator: the tile links nowhere."""
    check_scope(actor, department)
    bounds = [int(b.timestamp() * 1_000_000) for b in day_starts()]
    # the department's own model (audit sits below accounts and does not import it)
    ids = type(department)._default_manager.filter(path__startswith=department.path).values("id")
    c = AuditEntry.objects.filter(department_id__in=ids, at_us__gte=bounds[0]).aggregate(
        **{f"a_{i}": Count("seq", filter=Q(at_us__gte=bounds[i], at_us__lt=bounds[i + 1]))
           for i in range(len(bounds) - 1)})
    counts = [c[f"a_{i}"] for i in range(len(bounds) - 1)]
    days = [d.date().isoformat() for d in day_starts()[1:-1]]
    return [indicator(app="audit", key="actions_today", name="今日留痕操作", name_en="Audited actions today",
                      unit="次", value=counts[-1], yesterday=counts[-2], last_week=counts[0],
                      series=[[d, n] for d, n in zip(days, counts[1:], strict=True)], department=department)]


def checkpoint_age_seconds() -> float | None:
    """Seconds since the newest signed checkpoint (None before the first): an operator alerts when the
    checkpoint job stops."""
    newest = Checkpoint.objects.order_by("-tree_size").values_list("signed_at", flat=True).first()
    return None if newest is None else (timezone.now() - newest).total_seconds()


def trail_length() -> int:
    head = AuditHead.objects.values_list("seq", flat=True).first()
    return head or 0


def latest_verification() -> Verification | None:
    """The newest kept verification of the whole trail (``services.verify_and_keep``: the worker's periodic job,
    ``smartgov audit verify``, ``POST /api/audit/verify``, the 等保 self-check): what screens show as the chain's
    status without re-hashing it on each look."""
    return Verification.objects.order_by("-checked_at", "-id").first()
