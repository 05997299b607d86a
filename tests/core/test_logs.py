"""JSON logs with a request id that follows a request through the app server, the audit trail, and the
background job it queued (core/logs.py)."""

import io
import logging
import sys

import orjson
import pytest
from django.core.management import call_command
from django.tasks.signals import task_started
from django.test import Client

from smartgov.audit.models import AuditEntry
from smartgov.audit.services import record
from smartgov.audit.tasks import cut_audit_checkpoint
from smartgov.core import logs
from smartgov.core.models import JobOrigin
from smartgov.core.permissions import system_actor
from smartgov.core.tasks import enqueue_on_commit

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """The JSON lines the access logger writes during the test."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.ContextFilter())
    logger = logging.getLogger("smartgov.request")
    logger.addHandler(handler)
    level, logger.level = logger.level, logging.INFO
    yield lambda: [orjson.loads(line) for line in out.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.level = level


def test_each_request_writes_one_json_line_with_its_id(json_lines):
    resp = Client().get("/api/health?id_number=110101199003077777", HTTP_X_REQUEST_ID="haproxy-0a1b2c3d")
    assert resp["X-Request-ID"] == "haproxy-0a1b2c3d"
    [line] = json_lines()
    assert line["request_id"] == "haproxy-0a1b2c3d" and line["logger"] == "smartgov.request"
    assert line["method"] == "GET" and line["path"] == "/api/health" and line["status"] == resp.status_code
    assert line["ts"].endswith("Z") and line["level"] == "INFO" and isinstance(line["ms"], float)
    assert "110101199003077777" not in orjson.dumps(line).decode()  # no query string in the log


@pytest.mark.parametrize("forged", ["x\n{\"level\":\"ERROR\"}", "short", "a" * 33, "bad id with spaces"])
def test_a_malformed_request_id_is_replaced(json_lines, forged):
    resp = Client().get("/api/health", HTTP_X_REQUEST_ID=forged)
    rid = resp["X-Request-ID"]
    assert rid != forged and len(rid) == 32 and int(rid, 16) >= 0
    assert [line["request_id"] for line in json_lines()] == [rid]


def test_the_audit_entry_and_the_queued_job_carry_the_request_id(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)
    seen = []

    def during_job(sender, task_result, **kwargs):  # runs after core's own handler, in the worker
        seen.append((logs.request_id.get(), logs.job_id.get(), str(task_result.id)))

    token = logs.request_id.set("req-0001-abcdef")  # what RequestIdMiddleware does
    try:
        with django_capture_on_commit_callbacks(execute=True):
            seq = record(actor=system_actor("tests"), action="test.write")
            enqueue_on_commit(cut_audit_checkpoint)
    finally:
        logs.request_id.reset(token)
    assert AuditEntry.objects.get(seq=seq).request_id == "req-0001-abcdef"
    assert list(JobOrigin.objects.values_list("request_id", flat=True)) == ["req-0001-abcdef"]
    task_started.connect(during_job)
    try:
        call_command("db_worker", "--batch", "--interval", "0", verbosity=0)
    finally:
        task_started.disconnect(during_job)
    assert seen and seen[0][0] == "req-0001-abcdef" and seen[0][1] == seen[0][2]
    assert not JobOrigin.objects.exists()  # forgotten once the job ran
    assert logs.request_id.get() == "" and logs.job_id.get() == ""


def test_a_job_queued_outside_a_request_has_no_origin():
    cut_audit_checkpoint.enqueue()
    assert not JobOrigin.objects.exists()


def test_exceptions_keep_their_traceback_in_the_line():
    try:
        raise ValueError("坏数据")
    except ValueError:
        rec = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "失败 %s", ("甲",), sys.exc_info())
    line = orjson.loads(logs.JsonFormatter().format(rec))
    assert line["message"] == "失败 甲" and "ValueError: 坏数据" in line["exc"]
