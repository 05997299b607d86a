"""Staffing by queueing theory: Erlang C (M/M/n) and Erlang A (M/M/n+M, Palm's model with abandonment).

Units: ``rate`` arrivals per minute, ``aht`` mean service minutes, ``patience`` mean minutes a visitor
waits before giving up, ``t`` the target wait in minutes. ``a = rate × aht`` is the offered load (Erlangs).

Erlang C is computed through the Erlang B recursion (numerically stable for any n):
``B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1))``, ``C = n·B / (n − a·(1 − B))``,
service level ``SL(t) = 1 − C·exp(−(n − a)·t / aht)``, mean wait ``ASA = C·aht / (n − a)``.

Erlang A: the stationary distribution of the birth–death chain (birth λ, death ``min(k, n)·μ + max(k − n, 0)·θ``),
and the service level as the probability that an arrival *is served* within t: it finds j visitors
waiting ahead, moves up at rate ``nμ + iθ`` while i are ahead, and abandons itself at rate θ; the
time to absorption is computed by uniformisation.
"""

import math
from dataclasses import dataclass

import numpy as np


def erlang_b(n: int, a: float) -> float:
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(n: int, a: float) -> float:
    """Probability that an arrival waits (P(W > 0)) with n servers and offered load a (needs n > a)."""
    if n <= a:
        return 1.0
    b = erlang_b(n, a)
    return n * b / (n - a * (1 - b))


def service_level_c(n: int, a: float, t: float, aht: float) -> float:
    if n <= a:
        return 0.0
    return 1 - erlang_c(n, a) * math.exp(-(n - a) * t / aht)


def asa_c(n: int, a: float, aht: float) -> float:
    return math.inf if n <= a else erlang_c(n, a) * aht / (n - a)


@dataclass
class Advice:
    servers: int
    service_level: float
    wait_probability: float
    mean_wait: float
    abandon_probability: float = 0.0


def staff_erlang_c(*, rate: float, aht: float, t: float, target: float, max_servers: int = 500) -> Advice:
    """The fewest servers for which at least ``target`` of arrivals wait no longer than ``t``."""
    a = rate * aht
    n = max(1, math.floor(a) + 1)
    while n <= max_servers:
        sl = service_level_c(n, a, t, aht)
        if sl >= target:
            return Advice(n, sl, erlang_c(n, a), asa_c(n, a, aht))
        n += 1
    raise ValueError("target not reachable within max_servers")


def _erlang_a_distribution(n: int, rate: float, mu: float, theta: float) -> np.ndarray:
    """π_k, k = 0 … K (the chain truncated where the remaining mass is negligible)."""
    logs = [0.0]
    k = 0
    while True:
        k += 1
        death = min(k, n) * mu + max(k - n, 0) * theta
        logs.append(logs[-1] + math.log(rate) - math.log(death))
        if k > n and (logs[-1] < max(logs) - 40 or k > n + 5000):
            break
    v = np.exp(np.array(logs) - max(logs))
    return v / v.sum()


def erlang_a(n: int, *, rate: float, aht: float, patience: float, t: float) -> Advice:
    """Erlang A figures for n servers: service level (served within t), P(wait), mean wait, P(abandon)."""
    mu, theta = 1 / aht, 1 / patience
    pi = _erlang_a_distribution(n, rate, mu, theta)
    waiting = pi[n:]  # an arrival finding k ≥ n in the system has j = k − n ahead of it
    p_wait = float(waiting.sum())
    queue = float((np.arange(len(waiting)) * waiting).sum())
    # uniformisation of "i ahead" (i = J … 0) with own abandonment; served = absorbed from i = 0
    j_max = len(waiting) - 1
    rates = n * mu + np.arange(j_max + 1) * theta
    big = float(rates[-1] + theta)
    p = waiting.copy()
    served = 0.0
    lam_t = big * t
    m_max = int(lam_t + 12 * math.sqrt(lam_t) + 20)
    weight = math.exp(-lam_t)
    cumulative_served = 0.0
    for m in range(m_max + 1):
        cumulative_served += weight * served
        move = p * rates / big
        stay = p * (1 - (rates + theta) / big)
        served += float(move[0])
        p = stay
        p[:-1] += move[1:]
        weight *= lam_t / (m + 1)
    # P(served by t) = Σ_m Pois(m; Λt) · P(served within m steps); served after step m is the m-step value
    sl = float(pi[:n].sum()) + cumulative_served
    return Advice(n, min(sl, 1.0), p_wait, queue / rate, theta * queue / rate)


def staff_erlang_a(*, rate: float, aht: float, patience: float, t: float, target: float,
                   max_servers: int = 500) -> Advice:
    for n in range(1, max_servers + 1):
        advice = erlang_a(n, rate=rate, aht=aht, patience=patience, t=t)
        if advice.service_level >= target:
            return advice
    raise ValueError("target not reachable within max_servers")
