import pytest


@pytest.mark.django_db
def test_hourly_job_stores_expiry_and_queues_its_next_run():
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from smartgov.licences.tasks import expire_licences

    assert expire_licences.call() == 0
    assert DBTaskResult.objects.filter(task_path=expire_licences.module_path,
                                       status=TaskResultStatus.READY).count() == 1
