"""The 1:N vector index (faiss): one per modality, per process, rebuilt from the database at will.

Choice (see docs/adr/0003-biometric-index.md for the measurement): exact ``IndexFlatIP`` behind an
``IndexIDMap2`` while a modality holds up to ``FLAT_MAX`` templates, and ``IndexIVFFlat`` (inner
product, spherical k-means, hashtable direct map) above it. IVF keeps exact float32 vectors, so a
score is the true cosine similarity and thresholds mean the same in both kinds; it supports
``add_with_ids`` and ``remove_ids`` natively, so faiss ids are template row ids and deletes need no
tombstones.

The database is the source of truth. The index on disk is a checkpoint: ``<modality>.faiss`` plus
``<modality>.json`` (dimension, kind, count, highest template id applied, time saved). A process
loads the checkpoint and catches up from the database: in full (set difference of template ids, which
is safe whatever order transactions committed in) on load, and incrementally (rows whose
``updated_at`` is recent, with an overlap window) before searches. Each app server holds its own
copy; one lock per index serialises add, remove, search and save within a process.
"""

import json
import math
import os
import threading
import time
from datetime import timedelta
from pathlib import Path

import faiss
import numpy as np
from django.conf import settings
from django.utils import timezone

from .modalities import spec
from .models import BiometricTemplate

FLAT_MAX = 50_000  # up to this many templates exact search is fast enough (p50 ≈ 8 ms at 60k × 512, ADR 0003)
TRAIN_PER_LIST = 40  # k-means sample: this many vectors per inverted list
NPROBE = 32  # inverted lists searched per query (recall vs latency: see the ADR)
CATCH_UP_SECONDS = 2.0  # at most this often a search first looks for other servers' changes
CATCH_UP_OVERLAP = timedelta(minutes=10)  # a transaction may commit this long after it saved a row
FORMAT = 1


def nlist_for(count: int) -> int:
    """Inverted lists for ``count`` vectors: 2·√n, a power of two (1M → 2048)."""
    return 2 ** max(6, round(math.log2(2 * math.sqrt(max(count, 1)))))


def normalise(vectors) -> np.ndarray:
    """float32, C-contiguous, each row scaled to unit length (so inner product = cosine)."""
    arr = np.ascontiguousarray(np.atleast_2d(np.asarray(vectors, dtype=np.float32)))
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return arr / norms


def _ids(ids) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))


class BiometricIndex:
    """A faiss index of unit vectors, keyed by template id. Thread-safe within one process."""

    def __init__(self, modality: str, dim: int, *, nprobe: int = NPROBE):
        self.modality, self.dim, self.nprobe = modality, dim, nprobe
        self._lock = threading.RLock()
        self._index = self._new_flat()
        self._ids: set[int] = set()
        self.synced_at = None  # database time of the last catch-up (None: never synced)
        self.last_catch_up = 0.0  # monotonic clock of the last catch-up attempt

    # --- kinds -----------------------------------------------------------------------------------

    def _new_flat(self):
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    def _new_ivf(self, sample: np.ndarray, nlist: int):
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.spherical = True  # centroids on the unit sphere, as the vectors are
        index.cp.niter = 10
        index.train(sample)
        index.set_direct_map_type(faiss.DirectMap.Hashtable)  # remove_ids by id without a scan
        index.nprobe = self.nprobe
        return index

    @property
    def kind(self) -> str:
        return "ivf" if isinstance(self._index, faiss.IndexIVF) else "flat"

    @property
    def needs_rebuild(self) -> bool:
        """Flat grown past FLAT_MAX, or IVF whose size now calls for another list count (n changed ~4×)."""
        n = len(self._ids)
        if self.kind == "flat":
            return n > FLAT_MAX
        return n <= FLAT_MAX // 2 or nlist_for(n) != self._index.nlist

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, template_id: int) -> bool:
        return int(template_id) in self._ids

    def ids(self) -> set[int]:
        with self._lock:
            return set(self._ids)

    # --- building and changing -------------------------------------------------------------------

    def build(self, ids, vectors: np.ndarray, *, kind: str | None = None, seed: int = 0,
              chunk: int = 100_000) -> None:
        """Replace the contents with ``vectors`` (already unit length) under ``ids``."""
        ids = _ids(ids)
        n = len(ids)
        kind = kind or ("flat" if n <= FLAT_MAX else "ivf")
        if kind == "flat":
            index = self._new_flat()
        else:
            nlist = nlist_for(n)
            take = min(n, nlist * TRAIN_PER_LIST)
            rows = np.sort(np.random.default_rng(seed).choice(n, take, replace=False))
            index = self._new_ivf(np.ascontiguousarray(vectors[rows]), nlist)
        for start in range(0, n, chunk):
            index.add_with_ids(np.ascontiguousarray(vectors[start:start + chunk], dtype=np.float32),
                               ids[start:start + chunk])
        with self._lock:
            self._index, self._ids = index, set(ids.tolist())

    def add(self, ids, vectors: np.ndarray) -> int:
        """Add templates not yet present (idempotent); returns how many were added."""
        ids, vectors = _ids(ids), np.atleast_2d(vectors)
        with self._lock:
            fresh = np.array([i not in self._ids for i in ids.tolist()], dtype=bool)
            if not fresh.any():
                return 0
            self._index.add_with_ids(np.ascontiguousarray(vectors[fresh], dtype=np.float32), ids[fresh])
            self._ids.update(ids[fresh].tolist())
            return int(fresh.sum())

    def remove(self, ids) -> int:
        ids = _ids(ids)
        with self._lock:
            present = _ids([i for i in ids.tolist() if i in self._ids])
            if not len(present):
                return 0
            removed = self._index.remove_ids(present)
            self._ids.difference_update(present.tolist())
            return int(removed)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, template ids) per query row; missing slots have id -1."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        with self._lock:
            if not self._ids:
                shape = (len(queries), k)
                return np.full(shape, -np.inf, dtype=np.float32), np.full(shape, -1, dtype=np.int64)
            return self._index.search(queries, min(k, len(self._ids)))

    # --- persistence -----------------------------------------------------------------------------

    def save(self, directory: Path) -> dict:
        """Write ``<modality>.faiss`` and ``<modality>.json`` (each replaced atomically)."""
        directory.mkdir(parents=True, exist_ok=True)
        path, meta_path = directory / f"{self.modality}.faiss", directory / f"{self.modality}.json"
        with self._lock:
            tmp = path.with_suffix(".faiss.tmp")
            faiss.write_index(self._index, str(tmp))
            os.replace(tmp, path)
            meta = {"format": FORMAT, "modality": self.modality, "dim": self.dim, "kind": self.kind,
                    "count": len(self._ids), "max_template_id": max(self._ids, default=0),
                    "synced_at": self.synced_at.isoformat() if self.synced_at else None,
                    "saved_at": timezone.now().isoformat()}
        tmp = meta_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(meta, indent=1))
        os.replace(tmp, meta_path)
        return meta

    @classmethod
    def load(cls, directory: Path, modality: str, dim: int) -> "BiometricIndex | None":
        """The saved index, or None if there is none or it no longer fits the modality registry."""
        path, meta_path = directory / f"{modality}.faiss", directory / f"{modality}.json"
        if not (path.exists() and meta_path.exists()):
            return None
        meta = json.loads(meta_path.read_text())
        if meta.get("format") != FORMAT or meta.get("dim") != dim:
            return None
        self = cls(modality, dim)
        self._index = faiss.read_index(str(path))
        if isinstance(self._index, faiss.IndexIVF):
            self._index.nprobe = self.nprobe
            self._ids = set(_ivf_ids(self._index).tolist())
        else:
            self._ids = set(faiss.vector_to_array(self._index.id_map).tolist())
        return self


def _ivf_ids(index) -> np.ndarray:
    lists = index.invlists
    parts = []
    for no in range(index.nlist):
        size = lists.list_size(no)
        if size:
            ptr = lists.get_ids(no)
            parts.append(faiss.rev_swig_ptr(ptr, size).copy())
            lists.release_ids(no, ptr)
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


# --- the process's indexes, kept in step with the database -------------------------------------------

_indexes: dict[str, BiometricIndex] = {}
_registry_lock = threading.Lock()


def index_dir() -> Path:
    return Path(settings.BIOMETRIC_INDEX_DIR or Path(settings.VAR_DIR) / "biometrics")


def reset() -> None:
    """Forget the in-memory indexes (the next use loads from disk and catches up)."""
    with _registry_lock:
        _indexes.clear()


def get_index(modality: str) -> BiometricIndex:
    """This process's index for ``modality``: loaded from disk and caught up on first use."""
    index = _indexes.get(modality)
    if index is not None:
        return index
    with _registry_lock:
        index = _indexes.get(modality)
        if index is None:
            dim = spec(modality).dim
            index = BiometricIndex.load(index_dir(), modality, dim)
            if index is None:  # nothing saved (or saved for another dimension): build from the database
                index = _build_from_database(modality)
            else:
                sync_index(index, full=True)
            _indexes[modality] = index
    return index


def _live(modality: str):
    # a template of another length (captured before the registry's dimension changed) cannot be searched
    return BiometricTemplate.objects.filter(modality=modality, dim=spec(modality).dim, deleted_at__isnull=True)


def _vectors(ids, dim: int, chunk: int = 5000):
    """(ids, normalised vectors) of live templates among ``ids``, read in chunks."""
    ids = sorted(ids)
    got_ids, got = [], []
    for start in range(0, len(ids), chunk):
        for tid, blob in _live_rows(ids[start:start + chunk], dim):
            got_ids.append(tid)
            got.append(np.frombuffer(bytes(blob), dtype=np.float32, count=dim))
    return got_ids, (np.vstack(got) if got else np.empty((0, dim), dtype=np.float32))


def _live_rows(ids, dim: int):
    return (BiometricTemplate.objects.filter(pk__in=ids, dim=dim, deleted_at__isnull=True)
            .values_list("id", "vector"))


def sync_index(index: BiometricIndex, *, full: bool = False) -> dict:
    """Apply enrolments and deletions the index has not seen. Idempotent.

    ``full``: compare every live template id with the index (catches anything, ~1 s per million
    ids). Otherwise only rows changed since the last sync, less ``CATCH_UP_OVERLAP`` — ids are not
    handed out in commit order, so a high-water mark alone could skip a late-committing row.
    """
    started = timezone.now()
    qs = _live(index.modality)
    if full or index.synced_at is None:
        live = set(qs.values_list("id", flat=True).iterator(chunk_size=20_000))
        indexed = index.ids()
        to_add, to_remove = live - indexed, indexed - live
    else:
        changed = BiometricTemplate.objects.filter(modality=index.modality,
                                                   updated_at__gte=index.synced_at - CATCH_UP_OVERLAP)
        to_add, to_remove = set(), set()
        for tid, deleted_at in changed.values_list("id", "deleted_at"):
            if deleted_at is None and tid not in index:
                to_add.add(tid)
            elif deleted_at is not None and tid in index:
                to_remove.add(tid)
    added = 0
    if to_add:
        ids, vectors = _vectors(to_add, index.dim)
        added = index.add(ids, vectors)
    removed = index.remove(list(to_remove)) if to_remove else 0
    index.synced_at, index.last_catch_up = started, time.monotonic()
    return {"added": added, "removed": removed}


def catch_up(modality: str) -> BiometricIndex:
    """The index, first brought up to date with other servers' changes if not done in the last moments."""
    index = get_index(modality)
    if time.monotonic() - index.last_catch_up >= CATCH_UP_SECONDS:
        sync_index(index)
    return index


def _build_from_database(modality: str, *, kind: str | None = None) -> BiometricIndex:
    dim = spec(modality).dim
    index = BiometricIndex(modality, dim)
    started = timezone.now()
    ids = np.fromiter(_live(modality).order_by("id").values_list("id", flat=True).iterator(chunk_size=20_000),
                      dtype=np.int64)
    vectors = np.empty((len(ids), dim), dtype=np.float32)
    got_ids = np.empty(len(ids), dtype=np.int64)
    n = 0
    for start in range(0, len(ids), 5000):
        for tid, blob in _live_rows(ids[start:start + 5000].tolist(), dim):
            got_ids[n] = tid
            vectors[n] = np.frombuffer(bytes(blob), dtype=np.float32, count=dim)
            n += 1
    index.build(got_ids[:n], vectors[:n], kind=kind)
    index.synced_at, index.last_catch_up = started, time.monotonic()
    sync_index(index)  # rows that changed while we were reading
    return index


def rebuild_index(modality: str, *, kind: str | None = None) -> dict:
    """Rebuild ``modality``'s index from the database (choosing flat or IVF by size), swap it in and save it."""
    t0 = time.perf_counter()
    index = _build_from_database(modality, kind=kind)
    with _registry_lock:
        _indexes[modality] = index
    meta = index.save(index_dir())
    return {**meta, "seconds": round(time.perf_counter() - t0, 3)}


def checkpoint_index(modality: str) -> dict:
    """Catch up in full and save; rebuild first if the index has outgrown its kind (a periodic job)."""
    index = get_index(modality)
    sync_index(index, full=True)
    if index.needs_rebuild:
        return rebuild_index(modality)
    return index.save(index_dir())
