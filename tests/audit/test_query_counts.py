"""The audit entry list costs the same number of queries for a few entries as for many (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartgov.audit.services import record
from smartgov.core.permissions import Role, system_actor
from tests import factories as f

pytestmark = pytest.mark.django_db


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        resp = client.get("/api/audit/entries?page_size=100")
    assert resp.status_code == 200
    return len(queries)


def test_entry_list_queries_do_not_grow_with_the_entries():
    client = f.staff_client(f.user(Role.AUDITADMIN))
    officer = f.user(Role.OFFICER, department=f.department())
    for i in range(2):
        record(actor=officer, action="test.write", target=("test.thing", str(i)))
    few = _queries(client)
    for i in range(20):
        record(actor=officer if i % 2 else system_actor("test"), action="test.write", target=("test.thing", str(i)))
    assert _queries(client) == few
