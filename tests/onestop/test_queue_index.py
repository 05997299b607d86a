"""The officer's queue at scale (issue 20; ADR 0023): the department scope is an equality on the case's
department id (not a join on the department's path), so PostgreSQL can walk the partial index
``onestop_app_open`` in the queue's own order and stop after one page."""

import pytest
from django.db import connection

from smartgov.onestop import selectors


def test_an_officers_scope_is_their_department_id_without_a_join(world):
    where = str(selectors.case_queue(world["officer"]).query).split(" WHERE ", 1)[1]
    assert f'"onestop_application"."department_id" = {world["regulator"].pk}' in where
    assert '"path"' not in where
    # a department admin's subtree still goes by the path
    assert '"path"' in str(selectors.case_queue(world["chief"]).query).split(" WHERE ", 1)[1]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
def test_the_queue_page_is_read_in_index_order_without_a_sort(world):
    qs = selectors.case_queue(world["officer"])[:20]
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_sort = off")  # if the index can give the order, no Sort remains
        cur.execute("SET LOCAL enable_bitmapscan = off")
        cur.execute("EXPLAIN " + sql, params)
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert "onestop_app_open" in plan, plan
    assert "Sort" not in plan.split("onestop_app_open")[0], plan
