"""1:N identification speed and accuracy on synthetic templates (``smartgov bench biometrics``).

The vectors are synthetic and clustered (people in "look-alike" families, numpy RNG with a fixed
seed); a probe is a noisy copy of an enrolled template, so every probe has one true match. The 1M
build bypasses the database: the matrix goes straight into the same ``BiometricIndex`` class the
services use. Exact search (brute force over the same matrix) is the reference for recall.

``python -m smartgov.biometrics.bench --compare`` measures the candidate index kinds for the ADR.
"""

import gc
import resource
import sys
import time

import faiss
import numpy as np

from .index import NPROBE, BiometricIndex, nlist_for, normalise

SEED = 20260101
FAMILY_SIZE = 1000  # templates per cluster of similar-looking people
FAMILY_WEIGHT = 0.5  # share of a template that is its family's: cousins score ≈ 0.2
PROBE_NOISE = 0.75  # a probe's noise relative to its template: genuine scores ≈ 0.8


def synthetic_templates(templates: int, dim: int, *, seed: int = SEED, chunk: int = 100_000) -> np.ndarray:
    """``templates`` unit vectors in clustered families (float32, generated in chunks to bound memory)."""
    rng = np.random.default_rng(seed)
    families = normalise(rng.standard_normal((max(1, templates // FAMILY_SIZE), dim), dtype=np.float32))
    out = np.empty((templates, dim), dtype=np.float32)
    for start in range(0, templates, chunk):
        n = min(chunk, templates - start)
        noise = rng.standard_normal((n, dim), dtype=np.float32) / np.float32(np.sqrt(dim))
        out[start:start + n] = normalise(FAMILY_WEIGHT * families[rng.integers(0, len(families), n)] + noise)
    return out


def noisy_probes(base: np.ndarray, count: int, *, seed: int = SEED + 1) -> tuple[np.ndarray, np.ndarray]:
    """(rows probed, probes): noisy copies of ``count`` enrolled templates — the same person again."""
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(base), count, replace=False)
    dim = base.shape[1]
    noise = rng.standard_normal((count, dim), dtype=np.float32) / np.float32(np.sqrt(dim))
    return rows, normalise(base[rows] + PROBE_NOISE * noise)


def _timed_searches(search, probes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Search one probe at a time, as a 1:N request does; (ms per search, ids found)."""
    ms = np.empty(len(probes))
    found = np.empty((len(probes), k), dtype=np.int64)
    for i in range(len(probes)):
        t0 = time.perf_counter()
        _, ids = search(probes[i:i + 1], k)
        ms[i] = (time.perf_counter() - t0) * 1000
        found[i, :ids.shape[1]] = ids[0]
    return ms, found


def _recall(found: np.ndarray, exact: np.ndarray) -> float:
    k = exact.shape[1]
    return float(np.mean([len(set(f[:k]) & set(e)) / k for f, e in zip(found, exact, strict=True)]))


def _peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _exact(base: np.ndarray, probes: np.ndarray, k: int) -> np.ndarray:
    _, ids = faiss.knn(probes, base, k, metric=faiss.METRIC_INNER_PRODUCT)
    return ids


def measure_identify(*, templates: int = 1_000_000, dim: int = 512, queries: int = 1000, k: int = 10,
                     exact_sample: int = 100, progress=None) -> dict:
    """Build the service's index kind over ``templates`` synthetic vectors; time ``queries`` 1:N searches."""
    progress = progress or (lambda n: None)
    t0 = time.perf_counter()
    base = synthetic_templates(templates, dim)
    rows, probes = noisy_probes(base, queries)
    generate_s = time.perf_counter() - t0
    progress(templates // 2)

    index = BiometricIndex("bench", dim)
    t0 = time.perf_counter()
    index.build(np.arange(templates, dtype=np.int64), base)
    build_s = time.perf_counter() - t0
    progress(templates // 2)

    ms, found = _timed_searches(index.search, probes, k)
    exact = _exact(base, probes, k)
    exact_ms, _ = _timed_searches(lambda q, kk: faiss.knn(q, base, kk, metric=faiss.METRIC_INNER_PRODUCT),
                                  probes[:exact_sample], k)
    return {
        "source": "synthetic, index layer (database bypassed for the build)",
        "templates": templates,
        "dim": dim,
        "queries": queries,
        "index_kind": index.kind,
        "nlist": getattr(index._index, "nlist", None),
        "nprobe": index.nprobe if index.kind == "ivf" else None,
        "generate_s": round(generate_s, 2),
        "index_build_s": round(build_s, 2),
        "identify_p50_ms": round(float(np.percentile(ms, 50)), 3),
        "identify_p99_ms": round(float(np.percentile(ms, 99)), 3),
        "exact_p50_ms": round(float(np.percentile(exact_ms, 50)), 3),
        "exact_p99_ms": round(float(np.percentile(exact_ms, 99)), 3),
        f"recall_at_{k}": round(_recall(found, exact), 4),
        "rank1_true_match": round(float(np.mean(found[:, 0] == rows)), 4),
        "exact_rank1_true_match": round(float(np.mean(exact[:, 0] == rows)), 4),
        "index_mb": round(templates * (dim * 4 + 8) / 2**20),
        "peak_rss_mb": _peak_rss_mb(),
        "threads": faiss.omp_get_max_threads(),
    }


def bench_biometrics(*, size: int = 1_000_000, progress=None) -> dict:
    return measure_identify(templates=size, progress=progress)


BENCHMARKS = {"biometrics": bench_biometrics}


# --- comparison of index kinds, for docs/adr/0003-biometric-index.md ----------------------------------

def compare_index_kinds(*, templates: int = 1_000_000, dim: int = 512, queries: int = 1000, k: int = 10,
                        exact_sample: int = 200, log=print) -> list[dict]:
    base = synthetic_templates(templates, dim)
    rows, probes = noisy_probes(base, queries)
    exact = _exact(base, probes, k)
    results = []

    def report(name, build_s, mem_mb, search, extra):
        ms, found = _timed_searches(search, probes, k)
        row = {"kind": name, **extra, "build_s": round(build_s, 1), "index_mb": mem_mb,
               "p50_ms": round(float(np.percentile(ms, 50)), 2), "p99_ms": round(float(np.percentile(ms, 99)), 2),
               f"recall_at_{k}": round(_recall(found, exact), 4),
               "rank1_true_match": round(float(np.mean(found[:, 0] == rows)), 4), "peak_rss_mb": _peak_rss_mb()}
        results.append(row)
        log(row)

    # exact brute force (IndexFlatIP): per-probe latency on a sample
    flat = faiss.IndexFlatIP(dim)
    t0 = time.perf_counter()
    flat.add(base)
    build = time.perf_counter() - t0
    ms, _ = _timed_searches(flat.search, probes[:exact_sample], k)
    row = {"kind": "IndexFlatIP (exact)", "build_s": round(build, 1), "index_mb": round(templates * dim * 4 / 2**20),
           "p50_ms": round(float(np.percentile(ms, 50)), 2), "p99_ms": round(float(np.percentile(ms, 99)), 2),
           f"recall_at_{k}": 1.0, "rank1_true_match": round(float(np.mean(exact[:, 0] == rows)), 4),
           "probes_timed": exact_sample}
    results.append(row)
    log(row)
    del flat
    gc.collect()

    # IVF-Flat through the service's own class, at several nprobe
    index = BiometricIndex("compare", dim)
    t0 = time.perf_counter()
    index.build(np.arange(templates, dtype=np.int64), base, kind="ivf")
    build = time.perf_counter() - t0
    for nprobe in (8, 16, 32, 64):
        index._index.nprobe = nprobe
        report("IndexIVFFlat", build, round(templates * (dim * 4 + 8) / 2**20), index.search,
               {"nlist": nlist_for(templates), "nprobe": nprobe})
    index._index.nprobe = NPROBE
    del index
    gc.collect()

    # IVF-PQ: 64 bytes a vector, approximate scores
    nlist = nlist_for(templates)
    quantizer = faiss.IndexFlatIP(dim)
    pq = faiss.IndexIVFPQ(quantizer, dim, nlist, 64, 8, faiss.METRIC_INNER_PRODUCT)
    pq.cp.niter = 10
    t0 = time.perf_counter()
    sample = base[np.sort(np.random.default_rng(0).choice(templates, min(templates, nlist * 40), replace=False))]
    pq.train(np.ascontiguousarray(sample))
    pq.add_with_ids(base, np.arange(templates, dtype=np.int64))
    build = time.perf_counter() - t0
    for nprobe in (16, 32, 64):
        pq.nprobe = nprobe
        report("IndexIVFPQ (m=64×8 bit)", build, round(templates * (64 + 8) / 2**20), pq.search,
               {"nlist": nlist, "nprobe": nprobe})
    del pq, quantizer
    gc.collect()

    # HNSW-Flat, M=32: no remove_ids (deletes would need tombstones and rebuilds)
    hnsw = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 40
    t0 = time.perf_counter()
    hnsw.add(base)
    build = time.perf_counter() - t0
    for ef in (16, 32, 64, 128):
        hnsw.hnsw.efSearch = ef
        report("IndexHNSWFlat (M=32)", build, round(templates * (dim * 4 + 32 * 2 * 4 * 1.1) / 2**20), hnsw.search,
               {"efConstruction": 40, "efSearch": ef})
    return results


if __name__ == "__main__":  # python -m smartgov.biometrics.bench [--compare] [templates]
    import orjson

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 1_000_000
    if "--compare" in sys.argv:
        out = compare_index_kinds(templates=n, log=lambda row: print(orjson.dumps(row).decode(), flush=True))
    else:
        print(orjson.dumps(measure_identify(templates=n)).decode())
