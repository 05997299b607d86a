"""The monitoring page: colour counts and charts, the late and soon lists with links to the case, and
reassign / escalate on a late task."""

import datetime

import pytest
from django.test import Client

from smartgov.audit.models import AuditEntry
from smartgov.core.permissions import Role, system_actor
from smartgov.workflow import services
from smartgov.workflow.models import Task, TaskStatus
from tests import factories as f

pytestmark = pytest.mark.django_db

LONG_AGO = datetime.date(2026, 1, 5)  # far enough back for a 3-day limit to be overdue


@pytest.fixture
def dept():
    return f.department("审批局")


@pytest.fixture
def officer(dept):
    return f.user(Role.OFFICER, department=dept, name="李承办")


@pytest.fixture
def colleague(dept):
    return f.user(Role.OFFICER, department=dept, name="赵同事")


@pytest.fixture
def chief(dept):
    return f.user(Role.DEPT_ADMIN, department=dept, name="王科长")


def start(dept, *, subject="test:1", title="测试办件", on=None, limit=3):
    return services.start_instance(actor=system_actor("test"), process_code="standard", subject=subject, title=title,
                                   department=dept, context={}, time_limit_days=limit,
                                   started_on=on or datetime.date.today())


def test_monitor_shows_counts_charts_and_the_late_list(dept, officer):
    start(dept, title="超期的办件", on=LONG_AGO)
    start(dept, title="正常的办件", limit=60)
    body = f.staff_client(officer).get("/workflow/").content.decode()
    assert 'data-testid="red-count">1<' in body
    late = body[body.index('data-testid="late"'):]
    assert "超期的办件" in late and "正常的办件" not in late
    assert "vendor/echarts/echarts.min.js" in body and 'id="monitor-data"' in body
    assert 'data-testid="reassign"' not in body  # officers watch; only the department admin reassigns


def test_monitor_is_for_staff_and_shows_only_their_scope(dept, officer):
    start(f.department("别的局"), title="别人的办件", on=LONG_AGO)
    body = f.staff_client(officer).get("/workflow/").content.decode()
    assert "别人的办件" not in body and 'data-testid="late-empty"' in body
    citizen = Client()
    citizen.force_login(f.user(Role.CITIZEN))
    assert citizen.get("/workflow/").status_code == 403
    assert Client().get("/workflow/").status_code == 302


def test_department_admin_reassigns_and_escalates_a_late_task(dept, chief, officer, colleague):
    instance = start(dept, title="超期的办件", on=LONG_AGO)
    task = instance.tasks.get(status=TaskStatus.OPEN)
    client = f.staff_client(chief)
    body = client.get("/workflow/").content.decode()
    assert 'data-testid="reassign"' in body and "赵同事" in body and 'data-testid="escalate"' in body
    client.post(f"/workflow/tasks/{task.pk}/reassign/", {"assignee": colleague.pk})
    task.refresh_from_db()
    assert task.assignee == colleague
    resp = client.post(f"/workflow/tasks/{task.pk}/escalate/", {"reason": ""}, follow=True)
    assert "请填写督办理由" in resp.content.decode()
    client.post(f"/workflow/tasks/{task.pk}/escalate/", {"reason": "超期未办"})
    task.refresh_from_db()
    assert task.escalated and task.role == Role.DEPT_ADMIN and task.assignee is None
    assert f.staff_client(officer).post(f"/workflow/tasks/{task.pk}/reassign/",
                                        {"assignee": colleague.pk}).status_code == 403


def test_a_task_of_another_department_is_not_found(dept, chief):
    other = start(f.department("别的局"), on=LONG_AGO)
    task = Task.objects.get(instance=other, status=TaskStatus.OPEN)
    client = f.staff_client(chief)
    entries = AuditEntry.objects.count()
    assert client.post(f"/workflow/tasks/{task.pk}/escalate/", {"reason": "x"}).status_code == 404
    task.refresh_from_db()  # refused, and nothing changed
    assert not task.escalated and task.role != Role.DEPT_ADMIN and AuditEntry.objects.count() == entries


def test_a_late_one_stop_case_links_to_its_case_page(world, citizen_client, officer_client):  # noqa: F811
    from smartgov.onestop import services as onestop
    from smartgov.onestop.models import Application
    from tests.onestop.conftest import COMPANY_FORM

    stored = onestop.store_material(actor=world["citizen"], key="articles", name="公司章程",
                                    upload=_pdf())
    app = onestop.apply(actor=world["citizen"], item=world["company"], answers={"premises_owned": "yes"},
                        form_data=COMPANY_FORM, materials={"articles": stored.pk})
    onestop.start_prereview(actor=world["officer"], application=app)
    onestop.accept(actor=world["officer"], application=app)
    app = Application.objects.get(pk=app.pk)
    type(app.instance).objects.filter(pk=app.instance_id).update(due_on=LONG_AGO)
    body = officer_client.get("/workflow/").content.decode()
    assert f'href="/onestop/work/case/{app.pk}/"' in body
    resp = officer_client.get(f"/onestop/work/case/{app.pk}/")
    assert resp.status_code == 302 and resp["Location"] == f"/onestop/work/{app.number}/"


def _pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("a.pdf", b"%PDF-1.4 test", "application/pdf")


from tests.onestop.conftest import citizen_client, officer_client, world  # noqa: E402, F401
