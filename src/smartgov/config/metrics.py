"""``/metrics`` for Prometheus: the request metrics of core.metrics and the gauges read at scrape time
from the apps' selectors (job queue depth, replica lag, audit checkpoint age and trail length)."""

from django.http import Http404, HttpResponse

from smartgov.audit import selectors as audit_selectors
from smartgov.core import dbrouter, tasks
from smartgov.core.metrics import allowed, exposition, gauge


@gauge("smartgov_job_queue_depth", "background jobs ready to run", ["queue"])
def _queue_depth():
    return tasks.queue_depth()


@gauge("smartgov_replica_lag_seconds", "replay lag of each read replica (-1: unreachable)", ["replica"])
def _replica_lag():
    return {(r["alias"],): -1.0 if r["lag_s"] is None else r["lag_s"] for r in dbrouter.status()}


@gauge("smartgov_audit_checkpoint_age_seconds", "seconds since the newest signed audit checkpoint")
def _checkpoint_age():
    return audit_selectors.checkpoint_age_seconds()


@gauge("smartgov_audit_entries", "entries in the audit trail")
def _trail_length():
    return audit_selectors.trail_length()


def metrics_view(request):
    if not allowed(request):
        raise Http404  # outside the monitoring network and without the credential: as if it did not exist
    body, content_type = exposition()
    return HttpResponse(body, content_type=content_type)
