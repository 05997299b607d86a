"""Prometheus metrics (issue 19, point 7): request rates and latencies by route, and gauges an operator
alerts on, served at ``/metrics`` to the monitoring network or credential only.

Under gunicorn each worker process counts its own requests; ``smartgov serve`` points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory so the scrape adds them up (prometheus_client's
multiprocess mode). Gauges that are facts about the database (queue depth, replica lag, checkpoint
age) are read at scrape time by the collectors ``config.metrics`` registers."""

import hmac
import ipaddress
import time
from collections.abc import Callable

from django.conf import settings
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

REQUESTS = Counter("smartgov_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram("smartgov_http_request_seconds", "HTTP request latency", ["route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10))

# name → (help, fn returning {label tuple: value} or a number); registered by config.metrics
GAUGES: dict[str, tuple[str, list[str], Callable[[], dict | float]]] = {}


def gauge(name: str, documentation: str, labels: list[str] | None = None):
    def register(fn):
        GAUGES[name] = (documentation, labels or [], fn)
        return fn
    return register


class _ScrapeTime:
    """Gauges read when Prometheus scrapes (database facts, the same for every process)."""

    def collect(self):
        for name, (documentation, labels, fn) in GAUGES.items():
            family = GaugeMetricFamily(name, documentation, labels=labels)
            value = fn()
            if isinstance(value, dict):
                for key, v in value.items():
                    family.add_metric(list(key), v)
            elif value is not None:
                family.add_metric([], value)
            yield family


def allowed(request) -> bool:
    """The monitoring credential (``Authorization: Bearer``) or an address in the monitoring networks."""
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and given and hmac.compare_digest(given.encode(), token.encode()):
        return True
    try:
        ip = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(ip in net for net in settings.METRICS_NETWORKS)


def exposition() -> tuple[bytes, str]:
    registry = CollectorRegistry()
    if settings.METRICS_MULTIPROC_DIR:
        multiprocess.MultiProcessCollector(registry, path=settings.METRICS_MULTIPROC_DIR)
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(_ScrapeTime())
    return generate_latest(registry), CONTENT_TYPE_LATEST


class RequestMetricsMiddleware:
    """Counts each request by its route pattern (not its path: ``/onestop/cases/<str:number>/``), so the
    number of series stays bounded whatever the URLs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = ("/" + match.route) if match is not None and match.route else "unmatched"
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        LATENCY.labels(route).observe(time.perf_counter() - started)
        return response
