import math

import numpy as np
import pytest

from smartgov.hall import erlang
from smartgov.hall.photo import check_photo

from .photos import portrait


def codes(data):
    return {p.code for p in check_photo(data)}


def test_a_photo_made_to_the_guide_passes():
    data = portrait()
    assert 20 * 1024 <= len(data) <= 80 * 1024
    assert check_photo(data) == []
    assert codes(portrait(background=(200, 225, 245))) == set()  # light blue


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"size": (300, 400)}, "pixels"),
    ({"size": (400, 480)}, "aspect"),
    ({"background": (120, 120, 120)}, "background"),       # dark grey
    ({"background": (240, 60, 60)}, "background"),         # red
    ({"noise": 30.0}, "background"),                       # not plain
    ({"offset_x": 80}, "not_centred"),
    ({"head_top": 0.3}, "head_position"),
    ({"fmt": "PNG"}, "format"),
    ({"quality": 30}, "file_size"),
])
def test_each_rule_is_named(kwargs, code):
    assert code in codes(portrait(**kwargs))


def test_not_an_image():
    assert codes(b"%PDF-1.4 not a photo" * 2000) >= {"format"}


# --- Erlang C against a published worked example ------------------------------------------------------
# Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example": 100 calls in 30 minutes,
# average handling time 180 s, target 80 % answered within 20 s → traffic intensity 10 Erlangs; with
# 14 agents the probability of waiting is 0.1741 and the service level 88.83 %, the fewest agents
# meeting the target (13 fall short). The same figures are reproduced by the pyworkforce
# library's documented example.


def test_erlang_c_call_centre_helper_example():
    rate, aht, t = 100 / 30, 3.0, 20 / 60
    a = rate * aht
    assert a == pytest.approx(10)
    assert erlang.erlang_c(14, a) == pytest.approx(0.1741, abs=5e-5)
    assert erlang.service_level_c(14, a, t, aht) == pytest.approx(0.8883, abs=1e-4)
    assert erlang.service_level_c(13, a, t, aht) < 0.8
    advice = erlang.staff_erlang_c(rate=rate, aht=aht, t=t, target=0.8)
    assert advice.servers == 14
    assert advice.mean_wait * 60 == pytest.approx(7.8, abs=0.1)  # ASA ≈ 8 s


def test_erlang_c_textbook_identities():
    # one server: M/M/1, P(wait) = ρ
    assert erlang.erlang_c(1, 0.7) == pytest.approx(0.7)
    # two servers: P(wait) = 2ρ²/(1+ρ) with ρ = a/2
    rho = 0.6
    assert erlang.erlang_c(2, 2 * rho) == pytest.approx(2 * rho**2 / (1 + rho))
    assert erlang.erlang_c(3, 3.5) == 1.0  # overloaded: everyone waits


def _brute_force_erlang_a(n, rate, mu, theta, k_max=400):
    """Solve πQ = 0 for the truncated generator directly (an independent method)."""
    q = np.zeros((k_max + 1, k_max + 1))
    for k in range(k_max + 1):
        if k < k_max:
            q[k, k + 1] = rate
        if k > 0:
            q[k, k - 1] = min(k, n) * mu + max(k - n, 0) * theta
        q[k, k] = -q[k].sum()
    a = np.vstack([q.T, np.ones(k_max + 1)])
    b = np.zeros(k_max + 2)
    b[-1] = 1
    return np.linalg.lstsq(a, b, rcond=None)[0]


def test_erlang_a_matches_the_generator_and_tends_to_erlang_c():
    rate, aht, patience, n = 1.2, 8.0, 15.0, 10
    pi = _brute_force_erlang_a(n, rate, 1 / aht, 1 / patience)
    result = erlang.erlang_a(n, rate=rate, aht=aht, patience=patience, t=10)
    assert result.wait_probability == pytest.approx(pi[n:].sum(), abs=1e-6)
    queue = sum((k - n) * p for k, p in enumerate(pi) if k > n)
    assert result.abandon_probability == pytest.approx(queue / patience / rate, abs=1e-6)
    # very patient visitors: Erlang A → Erlang C
    c = erlang.service_level_c(14, 10.0, 1 / 3, 3.0)
    a = erlang.erlang_a(14, rate=10 / 3, aht=3.0, patience=1e7, t=1 / 3)
    assert a.service_level == pytest.approx(c, abs=1e-4)
    # impatience lowers the load on the officers: never more staff than Erlang C
    kw = {"rate": 1.5, "aht": 8.0, "t": 10.0, "target": 0.8}
    assert erlang.staff_erlang_a(patience=10, **kw).servers <= erlang.staff_erlang_c(**kw).servers


def test_erlang_a_service_level_by_simulation():
    """A plain event simulation of M/M/n+M agrees with the computed service level."""
    rng = np.random.default_rng(1)
    n, rate, aht, patience, t = 5, 0.55, 8.0, 12.0, 5.0
    arrivals = np.cumsum(rng.exponential(1 / rate, 60000))
    free = np.zeros(n)
    served_in_t = 0
    import heapq
    # FCFS with abandonment: a visitor is served at the earliest free time if that comes before they leave
    heap = list(free)
    heapq.heapify(heap)
    for arrive in arrivals:
        start = max(arrive, heap[0])
        wait = start - arrive
        if wait <= rng.exponential(patience):
            heapq.heapreplace(heap, start + rng.exponential(aht))
            served_in_t += wait <= t
    simulated = served_in_t / len(arrivals)
    computed = erlang.erlang_a(n, rate=rate, aht=aht, patience=patience, t=t).service_level
    assert computed == pytest.approx(simulated, abs=0.01)
    assert not math.isnan(computed)
