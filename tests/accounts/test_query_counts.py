"""List endpoints cost the same number of queries for 2 rows as for 12 (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartgov.core.permissions import Role
from tests import factories as f

pytestmark = pytest.mark.django_db


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_user_list_queries_do_not_grow_with_the_rows():
    dept = f.department()
    client = f.staff_client(f.user(Role.DEPT_ADMIN, department=dept))
    for _ in range(2):
        f.user(Role.OFFICER, department=dept)
    few = _queries(client, "/api/accounts/users?page_size=50")
    for _ in range(10):
        f.user(Role.OFFICER, department=dept)
    assert _queries(client, "/api/accounts/users?page_size=50") == few


def test_department_list_queries_do_not_grow_with_the_rows():
    root = f.department("上级局")
    client = f.staff_client(f.user(Role.SUPERVISOR, department=root))
    f.department("下级一", parent=root)
    few = _queries(client, "/api/accounts/departments")
    for i in range(10):
        f.department(f"下级{i}", parent=root)
    assert _queries(client, "/api/accounts/departments") == few
