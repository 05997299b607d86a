"""A citizen's VID list costs the same number of queries for one VID as for ten (no N+1)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from .test_citizen import register

pytestmark = pytest.mark.django_db


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/eid/me/vids").status_code == 200
    return len(queries)


def test_vid_list_queries_do_not_grow_with_the_vids(issuer):
    client = Client()
    register(client, name="钱十五", birth="19840404")
    assert client.post("/api/eid/me/vids?hours=2").status_code == 201
    few = _queries(client)
    for _ in range(9):
        assert client.post("/api/eid/me/vids?hours=2").status_code == 201
    assert len(client.get("/api/eid/me/vids").json()) == 10
    assert _queries(client) == few
