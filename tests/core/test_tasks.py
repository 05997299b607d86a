import pytest
from django.core.management import call_command
from django.db import transaction
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from smartgov.audit.models import Checkpoint
from smartgov.audit.services import record
from smartgov.audit.tasks import cut_audit_checkpoint
from smartgov.core.permissions import system_actor
from smartgov.core.tasks import enqueue_on_commit, schedule_periodic

pytestmark = pytest.mark.django_db


def test_jobs_are_queued_only_after_commit(django_capture_on_commit_callbacks):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(cut_audit_checkpoint)
        raise RuntimeError("rolled back")
    assert not DBTaskResult.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(cut_audit_checkpoint)
        assert not DBTaskResult.objects.exists()
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1


def test_worker_runs_the_checkpoint_job_and_it_is_safe_to_run_again(monkeypatch):
    # The worker recycles connections between jobs; inside the test's transaction that would close it.
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)
    record(actor=system_actor("test"), action="test.write")
    cut_audit_checkpoint.enqueue()
    call_command("db_worker", "--batch", "--interval", "0", verbosity=0)
    assert list(Checkpoint.objects.values_list("tree_size", flat=True)) == [1]
    # the job queued its next run (deferred); running the job again adds nothing new
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1
    assert cut_audit_checkpoint.call() is None
    assert Checkpoint.objects.count() == 1


def test_periodic_jobs_are_scheduled_once():
    schedule_periodic()
    schedule_periodic()
    assert DBTaskResult.objects.filter(task_path=cut_audit_checkpoint.module_path,
                                       status=TaskResultStatus.READY).count() == 1
