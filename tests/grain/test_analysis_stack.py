"""The ingest path analyses a batch's scans of many warehouses at once (``analyse_stack``); each scan's
result must be exactly what it gets alone — faults, jumps, stuck sensors, hot spots, rates and all."""

import numpy as np

from smartgov.grain.analysis import DEFAULTS, analyse_scan, analyse_stack

LAYERS, N = 4, 96


def _case(rng, b):
    t = (rng.normal(18, 2, N)).astype(np.float32)
    kind = b % 6
    prev = stuck = ref = hours = None
    if kind >= 1:  # with the scan before: some jumps, some identical readings (stuck candidates)
        prev = (t + rng.normal(0, 0.3, N)).astype(np.float32)
        prev[rng.integers(0, N, 5)] += 12
        same = rng.integers(0, N, 20)
        prev[same] = t[same]
        if kind >= 2:
            counts = rng.integers(0, 8, N).astype("<u2")
            refs = (t - rng.normal(2, 1, N)).astype("<f4")
            stuck = counts.tobytes() + refs.tobytes()
    if kind >= 3:  # a hot spot, a missing and an out-of-range point, a rising point
        t[3] = t[3] + 7
        t[10] = np.nan
        t[11] = 85.0
        ref = (t - rng.normal(0.5, 1.5, N)).astype(np.float32)
        hours = [24.0, 10.0, 48.0][b % 3]
    if kind == 5:  # a whole layer without readings
        t[:N // LAYERS] = np.nan
    return t, prev, stuck, ref, hours, ["safe", "semi_safe", "dangerous"][b % 3]


def test_a_stack_gives_each_scan_what_it_gets_alone():
    rng = np.random.default_rng(2026)
    cases = [_case(rng, b) for b in range(36)]
    together = analyse_stack(np.stack([c[0] for c in cases]), layers=LAYERS, prev=[c[1] for c in cases],
                             prev_stuck=[c[2] for c in cases], rate_ref=[c[3] for c in cases],
                             rate_hours=[c[4] for c in cases], safety=[c[5] for c in cases], params=DEFAULTS)
    kinds = set()
    for (t, prev, stuck, ref, hours, safety), a in zip(cases, together, strict=True):
        alone = analyse_scan(t, layers=LAYERS, prev=prev, prev_stuck=stuck, rate_ref=ref, rate_hours=hours,
                             safety=safety, params=DEFAULTS)
        assert a == alone
        kinds |= {f["why"] for f in a.faulty} | {h["why"] for h in a.hot}
    # the cases reach every kind of finding, so the comparison covers each path
    assert kinds == {"missing", "range", "jump", "stuck", "margin", "rise"}
