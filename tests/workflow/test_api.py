import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartgov.core.permissions import Role, system_actor
from smartgov.workflow import services
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_department_admin_publishes_a_process_version_and_officers_see_their_tasks():
    dept = f.department()
    chief = f.staff_client(f.user(Role.DEPT_ADMIN, department=dept))
    officer_user = f.user(Role.OFFICER, department=dept)
    officer = f.staff_client(officer_user)
    body = {"code": "joint", "name": "联审", "definition": {"stages": [
        {"name": "审", "steps": [{"key": "a", "name": "甲"}]}]}}
    resp = chief.post("/api/workflow/processes", json.dumps(body), content_type="application/json")
    assert resp.status_code == 201 and resp.json()["version"] == 1
    bad = chief.post("/api/workflow/processes", json.dumps({**body, "definition": {"stages": "x"}}),
                     content_type="application/json")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_process"
    assert officer.post("/api/workflow/processes", json.dumps(body), content_type="application/json").status_code == 403
    for _ in range(3):
        services.start_instance(actor=system_actor("test"), process_code="joint", subject="x:1", title="办件", department=dept,
                                context={}, time_limit_days=5)

    def count(size):
        with CaptureQueriesContext(connection) as ctx:
            resp = officer.get(f"/api/workflow/tasks?page_size={size}")
        return len(ctx.captured_queries), len(resp.json()["results"])

    assert count(1)[0] == count(50)[0] and count(50)[1] == 3
    task_id = officer.get("/api/workflow/tasks").json()["results"][0]["id"]
    resp = chief.post(f"/api/workflow/tasks/{task_id}/escalate", json.dumps({"reason": "超期"}),
                      content_type="application/json")
    assert resp.status_code == 200 and resp.json()["escalated"] is True
    monitor = chief.get("/api/workflow/monitor").json()
    assert monitor["counts"]["total"] == 3
    outsider = f.staff_client(f.user(Role.DEPT_ADMIN))
    assert outsider.post(f"/api/workflow/tasks/{task_id}/escalate", json.dumps({"reason": "x"}),
                         content_type="application/json").status_code == 404
