"""The one-stop figures and red cards on the leader's screen, with cases made through the real pages."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartgov.onestop import selectors as onestop_selectors
from smartgov.onestop.models import Application
from smartgov.overview import selectors
from smartgov.workflow.models import Instance
from tests.onestop.test_pages import act, apply_page

pytestmark = pytest.mark.django_db


def figure(data, key):
    return next(i for g in data["apps"] for i in g["indicators"] if i["key"] == key)


def make_late(app):
    ten_days_ago = datetime.date.today() - datetime.timedelta(days=10)  # as if the clock had run out
    Instance.objects.filter(pk=app.instance_id).update(due_on=ten_days_ago)
    Application.objects.filter(pk=app.pk).update(due_on=ten_days_ago)


def test_cases_received_today_and_a_red_card_reach_the_leader(world, citizen_client, officer_client):
    leader = world["chief"]  # 部门管理员 of the regulator
    before = selectors.snapshot(leader, leader.department)
    assert figure(before, "onestop.received_today")["value"] == 0
    late = apply_page(citizen_client, world)
    apply_page(citizen_client, world)
    act(officer_client, late, "prereview")
    act(officer_client, late, "accept")
    make_late(late)
    data = selectors.snapshot(leader, leader.department)
    received = figure(data, "onestop.received_today")
    assert received["value"] == 2 and received["yesterday"] == 0 and received["series"][-1][1] == 2
    assert figure(data, "onestop.red_cards")["value"] == 1
    assert figure(data, "workflow.red")["value"] == 1
    red = [a for a in data["alerts"] if a["app"] == "onestop"]
    assert len(red) == 1 and red[0]["url"] == f"/onestop/work/case/{late.pk}/" and late.number in red[0]["title"]
    assert "王小明" not in red[0]["title"]  # no personal data on the wall
    # the tax department's leader sees none of it
    from smartgov.core.permissions import Role
    from tests import factories

    tax_leader = factories.user(Role.DEPT_ADMIN, department=world["tax"])
    other = selectors.snapshot(tax_leader, world["tax"])
    assert figure(other, "onestop.received_today")["value"] == 0 and other["alerts"] == []


def test_onestop_figures_take_the_same_queries_for_one_case_or_many(world, citizen_client, officer_client):
    leader = world["chief"]

    def count():
        with CaptureQueriesContext(connection) as ctx:
            onestop_selectors.indicators(actor=leader, department=leader.department)
            onestop_selectors.alerts(actor=leader, department=leader.department)
        return len(ctx.captured_queries)

    first = apply_page(citizen_client, world)
    act(officer_client, first, "prereview")
    act(officer_client, first, "accept")
    make_late(first)
    one = count()
    for _ in range(3):
        app = apply_page(citizen_client, world)
        act(officer_client, app, "prereview")
        act(officer_client, app, "accept")
        make_late(app)
    assert count() == one == 5
