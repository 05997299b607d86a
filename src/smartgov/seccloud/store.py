"""The tamper-evident event log: every event is leaf ``seq`` of an SM3 RFC 6962 Merkle tree.

Tree nodes live in tiles (as Tessera and Go's tlog do): the tile ``(stratum s, index j)`` holds the
level-8s node hashes ``256j … 256j+255`` and its inner levels 4–8 (``levels``). A full tile's root is
an entry of the tile above. A perfect subtree at level h is read from one tile — stored, or folded
from at most 8 entries — so an inclusion or consistency proof reads one query's worth of tiles (one
or two per stratum; 4 strata cover 2^32 leaves) and computes at most a few dozen SM3.
"""

from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from smartgov.core import merkle
from smartgov.core.crypto.sm2 import SM2PrivateKey, SM2PublicKey

from .models import LogHead, LogTile, TreeHead

TILE = 256
HEIGHT = 8
HASH = 32
# A tile also stores its inner levels 4–8 (16 + 8 + 4 + 2 + 1 = 31 hashes, 12 % more than the 256
# entries): a proof then reads a node of level ≥ 4 and recomputes one of level 1–3 from ≤ 8 entries
# (≤ 7 SM3) instead of a whole tile's 255. Levels 1–3 as well would double the tile for ≤ 11 SM3 saved.
STORED_FROM = 4
INNER_SLOTS = (TILE >> (STORED_FROM - 1)) - 1  # 31


def _inner_offset(r: int, k: int) -> int:
    """Byte offset of level-r node k (STORED_FROM ≤ r ≤ 8) in a tile's ``inner`` blob: the levels are
    laid out at fixed places, level 4 (16 slots) first, so a partial tile keeps its layout as it grows."""
    return ((TILE >> (STORED_FROM - 1)) - (TILE << 1 >> r) + k) * HASH


def _fold(entries: bytes, r: int, k: int) -> bytes:
    """Level-r node k of a tile (r < STORED_FROM or no stored levels) from its 2^r entries."""
    width = 1 << r
    level = [entries[(k * width + t) * HASH:(k * width + t + 1) * HASH] for t in range(width)]
    while len(level) > 1:
        level = [merkle.node_hash(level[t], level[t + 1]) for t in range(0, len(level), 2)]
    return level[0]


def _inner(entries: bytes, old_inner: bytes, old_width: int) -> bytes:
    """The tile's stored levels after it grew from ``old_width`` entries to ``len(entries) / 32``: the
    nodes already stored are kept, only the newly completed ones are hashed."""
    width = len(entries) // HASH
    out = bytearray(old_inner if len(old_inner) == INNER_SLOTS * HASH else bytes(INNER_SLOTS * HASH))
    have = old_width if len(old_inner) == INNER_SLOTS * HASH else 0
    for r in range(STORED_FROM, HEIGHT + 1):
        for k in range(have >> r, width >> r):
            if r == STORED_FROM:
                node = _fold(entries, r, k)
            else:
                o = _inner_offset(r - 1, 2 * k)
                node = merkle.node_hash(bytes(out[o:o + HASH]), bytes(out[o + HASH:o + 2 * HASH]))
            o = _inner_offset(r, k)
            out[o:o + HASH] = node
    return bytes(out)


def append_leaf_hashes(size: int, leaf_hashes: list[bytes]) -> None:
    """Write the tiles for leaves ``size … size+len-1`` (the caller holds the head lock): the partial
    tile of every stratum read in one query, every changed tile written in one upsert — a batch costs
    two round trips to the database however many strata it touches."""
    wanted = []
    count, stratum = size, 0
    while count:
        if count % TILE:
            wanted.append((stratum, count // TILE))
        count //= TILE
        stratum += 1
    partial = _read_tiles(wanted)
    out = []
    new = leaf_hashes
    count = size  # nodes already at this stratum's bottom level
    stratum = 0
    while new:
        first_tile = count // TILE
        last_tile = (count + len(new) - 1) // TILE
        existing, existing_inner = partial.get((stratum, first_tile), (b"", b"")) if count % TILE else (b"", b"")
        upward = []
        offset = 0
        for j in range(first_tile, last_tile + 1):
            have = existing if j == first_tile else b""
            room = TILE - len(have) // HASH
            chunk = new[offset:offset + room]
            offset += len(chunk)
            blob = have + b"".join(chunk)
            inner = _inner(blob, existing_inner if j == first_tile else b"", len(have) // HASH)
            out.append(LogTile(stratum=stratum, index=j, hashes=blob, levels=inner))
            if len(blob) == TILE * HASH:
                o = _inner_offset(HEIGHT, 0)
                upward.append(inner[o:o + HASH])  # the tile's root
        count //= TILE
        new = upward
        stratum += 1
    LogTile.objects.bulk_create(out, batch_size=500, update_conflicts=True, unique_fields=["stratum", "index"],
                                update_fields=["hashes", "levels"])


def _read_tiles(pairs) -> dict[tuple[int, int], tuple[bytes, bytes]]:
    """(entries, stored levels) of the tiles ``(stratum, index)`` that exist, in one query."""
    pairs = sorted(set(pairs))
    if not pairs:
        return {}
    # raw SQL: building the ORM's OR of (stratum, index) pairs cost more than the query itself
    where = " OR ".join(['(stratum = %s AND "index" = %s)'] * len(pairs))
    with connection.cursor() as cur:
        cur.execute(f'SELECT stratum, "index", hashes, levels FROM {LogTile._meta.db_table} '  # noqa: S608
                    f"WHERE {where}", [v for pair in pairs for v in pair])
        return {(s, j): (bytes(blob), bytes(levels or b"")) for s, j, blob, levels in cur.fetchall()}


class TileReader:
    """Perfect-subtree hashes read from tiles: the tiles a proof needs in one query, each node then
    read from a tile's entries or stored levels (≤ 7 SM3 for a node of level 1–3)."""

    def __init__(self):
        self.cache: dict[tuple[int, int], tuple[bytes, bytes]] = {}

    def prefetch(self, nodes: list[tuple[int, int]]) -> None:
        want = set()
        for h, i in nodes:
            s, r = divmod(h, HEIGHT)
            want.add((s, (i << r) // TILE))
        want -= self.cache.keys()
        if want:
            self.cache.update(_read_tiles(want))

    def node(self, h: int, i: int) -> bytes:
        s, r = divmod(h, HEIGHT)
        j = (i << r) // TILE
        tile = self.cache.get((s, j))
        if tile is None:
            self.prefetch([(h, i)])
            tile = self.cache.get((s, j))
            if tile is None:
                raise LookupError(f"node ({h}, {i}) is not in the log")
        entries, inner = tile
        k = i % (TILE >> r)
        if k >= (len(entries) // HASH) >> r:
            raise LookupError(f"node ({h}, {i}) is not in the log")
        if r == 0:
            return entries[k * HASH:(k + 1) * HASH]
        if r >= STORED_FROM and len(inner) == INNER_SLOTS * HASH:
            o = _inner_offset(r, k)
            return inner[o:o + HASH]
        return _fold(entries, r, k)  # low levels, or a tile written before levels were stored


def _proof(ranges: list[tuple[int, int]]) -> list[bytes]:
    reader = TileReader()
    reader.prefetch([n for a, b in ranges for n in merkle.perfect_ranges(a, b)])
    return [merkle.range_hash(reader.node, a, b) for a, b in ranges]


def inclusion_proof(index: int, size: int) -> list[bytes]:
    return _proof(merkle.inclusion_ranges(index, size))


def consistency_proof(first: int, second: int) -> list[bytes]:
    if first == second:
        return []
    return _proof(merkle.consistency_ranges(first, second))


def root_at(size: int) -> bytes:
    if size == 0:
        return merkle.SM3_HASHER.empty
    return _proof([(0, size)])[0]


def head() -> tuple[int, merkle.Frontier]:
    row = LogHead.objects.filter(id=1).first()
    if row is None:
        return 0, merkle.Frontier()
    return row.size, merkle.Frontier.loads(row.size, row.frontier)


# --- signed tree heads ------------------------------------------------------------------------------

def sth_message(size: int, root_hex: str, timestamp_ms: int) -> bytes:
    """What an STH signs (RFC 6962 §3.5 fields, as text): size, root, time."""
    return f"smartgov-seccloud-sth/v1\n{size}\n{root_hex}\n{timestamp_ms}\n".encode()


def log_signing_key() -> SM2PrivateKey:
    return SM2PrivateKey.from_pem(Path(settings.SIGNING_KEY_FILE).read_bytes())


def verify_sth(public: SM2PublicKey, size: int, root_hex: str, timestamp_ms: int, signature_hex: str) -> bool:
    try:
        return public.verify(bytes.fromhex(signature_hex), sth_message(size, root_hex, timestamp_ms))
    except ValueError:
        return False


@transaction.atomic
def sign_tree_head(timestamp_ms: int) -> TreeHead | None:
    """Sign the current root unless the newest STH already covers this size."""
    size, frontier = head()
    latest = TreeHead.objects.first()
    if latest is not None and latest.tree_size == size:
        return None
    key = log_signing_key()
    root = frontier.root().hex()
    sig = key.sign(sth_message(size, root, timestamp_ms))
    return TreeHead.objects.create(tree_size=size, root=root, timestamp_ms=timestamp_ms,
                                   key_id=key.public_key().key_id(), signature=sig.hex())
