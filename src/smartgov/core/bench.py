"""Benchmarks of core: ``smartgov bench crypto``."""

from . import bench_crypto


def bench_crypto_run(*, size: int = 2000, progress=None) -> dict:
    return bench_crypto.run(n=size, progress=progress)


BENCHMARKS = {"crypto": bench_crypto_run}
