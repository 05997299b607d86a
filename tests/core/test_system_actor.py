"""The one system actor: require() lets it pass, scope() gives it everything, the audit trail names it."""

import pytest

from smartgov.audit.models import AuditEntry
from smartgov.audit.services import record
from smartgov.core.errors import Forbidden, NotAuthenticated
from smartgov.core.permissions import (
    Role,
    SystemActor,
    covers_path,
    is_system,
    register,
    require,
    scope,
    system_actor,
)
from tests import factories

pytestmark = pytest.mark.django_db

register({"tests.system_actor_probe": {Role.OFFICER}})


def test_system_actor_passes_require_but_not_an_unregistered_permission():
    actor = system_actor("worker")
    require(actor, "tests.system_actor_probe")
    with pytest.raises(KeyError):
        require(actor, "tests.never_registered")


def test_anonymous_and_none_are_still_refused():
    with pytest.raises(NotAuthenticated):
        require(None, "tests.system_actor_probe")
    citizen = factories.user(Role.CITIZEN)
    with pytest.raises(Forbidden):
        require(citizen, "tests.system_actor_probe")


def test_system_actor_needs_a_name_and_is_recognised():
    with pytest.raises(ValueError):
        SystemActor("")
    assert is_system(system_actor("demo"))
    assert not is_system(None)
    assert system_actor("demo") == system_actor("demo") != system_actor("worker")


def test_audit_trail_records_which_job_acted():
    record(actor=system_actor("grain.ingest"), action="tests.probe", target=("tests.thing", "1"))
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.actor, entry.actor_role, entry.actor_id) == ("system:grain.ingest", "system", None)


def test_covers_path_follows_the_department_tree():
    city = factories.department("市局")
    county = factories.department("区局", parent=city)
    other = factories.department("他市局")
    supervisor = factories.user(Role.SUPERVISOR, department=city)
    officer = factories.user(Role.OFFICER, department=city)
    assert covers_path(supervisor, county.path)
    assert not covers_path(officer, county.path)
    assert covers_path(officer, city.path)
    assert not covers_path(supervisor, other.path)
    assert not covers_path(supervisor, None)
    assert covers_path(system_actor("worker"), other.path)


def test_scope_gives_the_system_everything():
    from smartgov.accounts.models import Department

    factories.department("甲局")
    qs = Department.objects.all()
    assert scope(system_actor("export"), qs, field="parent").count() == qs.count()
