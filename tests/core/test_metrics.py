"""/metrics: Prometheus text with request counts by route (not by path) and the scrape-time gauges, only to
the monitoring networks or the credential; anyone else gets the 404 a missing page gets."""

import pytest
from django.test import Client, override_settings

from smartgov.accounts.models import Level
from smartgov.accounts.services import create_department
from smartgov.core.permissions import system_actor

pytestmark = pytest.mark.django_db


def test_metrics_count_requests_by_route_and_show_the_gauges():
    c = Client(REMOTE_ADDR="127.0.0.1")
    c.get("/onestop/cases/20260101000000000001/")
    c.get("/onestop/cases/20260101000000000002/")
    create_department(actor=system_actor("test"), name="指标局", code="MET", level=Level.CITY)
    body = c.get("/metrics").content.decode()
    assert 'smartgov_http_requests_total{method="GET",route="/onestop/cases/<str:number>/"' in body
    assert "20260101000000000001" not in body  # the route, never the path: series stay bounded
    assert "smartgov_http_request_seconds_bucket" in body
    assert "smartgov_audit_entries " in body and "smartgov_audit_checkpoint_age_seconds" in body
    assert "smartgov_job_queue_depth" in body


@override_settings(METRICS_TOKEN="s3cret-token-for-prometheus")
def test_only_the_monitoring_network_or_credential_may_scrape():
    outsider = Client(REMOTE_ADDR="203.0.113.9")
    assert outsider.get("/metrics").status_code == 404
    assert outsider.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    ok = outsider.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token-for-prometheus")
    assert ok.status_code == 200 and ok["Content-Type"].startswith("text/plain")
