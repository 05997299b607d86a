"""Throughput of the platform's own SM2/SM3/SM4 code (``smartgov bench crypto``).

Needs no database and no configured keys: field encryption is measured with a throw-away
in-memory key ring.  The comparison with other SM2 libraries lives in
docs/adr/0002-sm2-through-openssl-libcrypto.md, not here (they are not project dependencies).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from .crypto.keys import KeyRing
from .crypto.sm2 import SM2PrivateKey, openssl_version
from .crypto.sm3 import new_sm3

SM3_CHUNK = 1 << 20  # SM3 throughput is measured on 1 MiB updates


def _rate(count: int, fn: Callable[[], object], progress: Callable[[int], object] | None) -> float:
    """Calls per second of ``fn`` over ``count`` calls."""
    start = time.perf_counter()
    for _ in range(count):
        fn()
    elapsed = time.perf_counter() - start
    if progress is not None:
        progress(count)
    return count / elapsed if elapsed > 0 else float("inf")


def run(*, n: int = 2000, progress: Callable[[int], object] | None = None) -> dict:
    """Operations per second for ``n`` operations of each kind (SM3: MB/s over 1 MiB updates)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    key = SM2PrivateKey.generate()
    pub = key.public_key()
    msg = os.urandom(256)
    sig = key.sign(msg)
    ct = pub.encrypt(b"110101199003077777")
    ring = KeyRing({1: os.urandom(32)})
    token = ring.encrypt_field("110101199003077777", purpose="id_number")

    sm3_rounds = max(4, n // 50)
    buf = os.urandom(SM3_CHUNK)

    def sm3_run() -> None:
        h = new_sm3()
        for _ in range(sm3_rounds):
            h.update(buf)
        h.digest()

    start = time.perf_counter()
    sm3_run()
    sm3_seconds = time.perf_counter() - start

    return {
        "libcrypto": openssl_version(),
        "n": n,
        "sm2_sign_per_s": round(_rate(n, lambda: key.sign(msg), progress)),
        "sm2_verify_per_s": round(_rate(n, lambda: pub.verify(sig, msg), progress)),
        "sm2_encrypt_per_s": round(_rate(max(1, n // 4), lambda: pub.encrypt(b"110101199003077777"), progress)),
        "sm2_decrypt_per_s": round(_rate(max(1, n // 4), lambda: key.decrypt(ct), progress)),
        "field_encrypt_per_s": round(
            _rate(n * 10, lambda: ring.encrypt_field("110101199003077777", purpose="id_number"), progress)
        ),
        "field_decrypt_per_s": round(_rate(n * 10, lambda: ring.decrypt_field(token, purpose="id_number"), progress)),
        "blind_index_per_s": round(
            _rate(n * 10, lambda: ring.blind_index("110101199003077777", purpose="id_number"), progress)
        ),
        "sm3_mb_per_s": round(sm3_rounds * SM3_CHUNK / 1e6 / sm3_seconds, 1),
    }
