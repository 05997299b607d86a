"""The tamper-evident event log: every event is leaf ``seq`` of an SM3 RFC 6962 Merkle tree.

Tree nodes live in tiles (as Tessera and Go's tlog do): the tile ``(stratum s, index j)`` holds the
level-8s node hashes ``256j … 256j+255``. A full tile's root is the first entry of the tile above.
A perfect subtree at level h is recomputed from at most 2^(h mod 8) entries of one tile, so an
inclusion or consistency proof reads one or two tiles per stratum (4 strata cover 2^32 leaves).
"""

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from smartgov.core import merkle
from smartgov.core.crypto.sm2 import SM2PrivateKey, SM2PublicKey

from .models import LogHead, LogTile, TreeHead

TILE = 256
HEIGHT = 8
HASH = 32


def _tile_root(hashes: list[bytes]) -> bytes:
    level = hashes
    while len(level) > 1:
        level = [merkle.node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def append_leaf_hashes(size: int, leaf_hashes: list[bytes]) -> None:
    """Write the tiles for leaves ``size … size+len-1`` (the caller holds the head lock)."""
    new = leaf_hashes
    count = size  # nodes already at this stratum's bottom level
    stratum = 0
    while new:
        first_tile = count // TILE
        last_tile = (count + len(new) - 1) // TILE
        existing = b""
        if count % TILE:
            row = LogTile.objects.filter(stratum=stratum, index=first_tile).first()
            existing = bytes(row.hashes) if row else b""
        upward = []
        tiles = []
        offset = 0
        for j in range(first_tile, last_tile + 1):
            have = existing if j == first_tile else b""
            room = TILE - len(have) // HASH
            chunk = new[offset:offset + room]
            offset += len(chunk)
            blob = have + b"".join(chunk)
            tiles.append((j, blob))
            if len(blob) == TILE * HASH:
                upward.append(_tile_root([blob[i:i + HASH] for i in range(0, len(blob), HASH)]))
        _save_tiles(stratum, tiles, first_tile if count % TILE else None)
        count //= TILE
        new = upward
        stratum += 1


def _save_tiles(stratum: int, tiles: list[tuple[int, bytes]], partial_index: int | None) -> None:
    fresh = []
    for j, blob in tiles:
        if j == partial_index:
            LogTile.objects.filter(stratum=stratum, index=j).update(hashes=blob)
        else:
            fresh.append(LogTile(stratum=stratum, index=j, hashes=blob))
    if fresh:
        LogTile.objects.bulk_create(fresh, batch_size=500)


def _levels(blob: bytes) -> list[list[bytes]]:
    """Every complete level inside a tile: level 0 its entries, level k the roots of aligned 2^k blocks."""
    level = [blob[i:i + HASH] for i in range(0, len(blob), HASH)]
    out = [level]
    while len(level) > 1:
        level = [merkle.node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        out.append(level)
    return out


@lru_cache(maxsize=4096)
def _full_tile_levels(stratum: int, index: int, blob: bytes) -> list[list[bytes]]:
    """Full tiles never change: their inner levels are computed once per process (upper strata are few
    and hot; a 10,000,000-leaf log has 153 tiles above the bottom one)."""
    return _levels(blob)


class TileReader:
    """Perfect-subtree hashes read from tiles: each tile fetched once and its inner levels computed once
    per reader (a proof), full tiles of the upper strata once per process."""

    def __init__(self):
        self.cache: dict[tuple[int, int], bytes] = {}
        self.levels: dict[tuple[int, int], list[list[bytes]]] = {}

    def prefetch(self, nodes: list[tuple[int, int]]) -> None:
        want = set()
        for h, i in nodes:
            s, r = divmod(h, HEIGHT)
            want.add((s, (i << r) // TILE))
        want -= self.cache.keys()
        if not want:
            return

        q = Q()
        for s, j in want:
            q |= Q(stratum=s, index=j)
        for s, j, blob in LogTile.objects.filter(q).values_list("stratum", "index", "hashes"):
            self.cache[(s, j)] = bytes(blob)

    def node(self, h: int, i: int) -> bytes:
        s, r = divmod(h, HEIGHT)
        j = (i << r) // TILE
        levels = self.levels.get((s, j))
        if levels is None:
            blob = self.cache.get((s, j))
            if blob is None:
                self.prefetch([(h, i)])
                blob = self.cache.get((s, j))
            if blob is None:
                raise LookupError(f"node ({h}, {i}) is not in the log")
            levels = _full_tile_levels(s, j, blob) if s and len(blob) == TILE * HASH else _levels(blob)
            self.levels[(s, j)] = levels
        k = i % (TILE >> r)
        if r >= len(levels) or k >= len(levels[r]):
            raise LookupError(f"node ({h}, {i}) is not in the log")
        return levels[r][k]


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
