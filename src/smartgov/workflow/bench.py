"""``smartgov bench workflow``: cases run through the process engine by its real services.

- ``start_per_s``: cases started on the standard process (受理 → 审核 → 决定), each an audited write
  that opens its first task and computes the working-day deadline;
- ``complete_per_s``: step decisions (an officer's review, the head's decision), each taking the task's
  and the case's row locks;
- ``cases_per_s``: whole cases, start to approval.
"""

import secrets
import time

from smartgov.accounts.models import Level
from smartgov.accounts.services import create_department, create_user
from smartgov.core.permissions import Role, system_actor

from . import services
from .models import InstanceStatus, Outcome, TaskStatus

ACTOR = system_actor("workflow.bench")


def bench_workflow(*, size: int = 2000, progress=None) -> dict:
    tag = secrets.token_hex(3)
    dept = create_department(actor=ACTOR, name=f"流程基准测试局{tag}", code=f"BENCH-WF-{tag}", level=Level.CITY)
    officer = create_user(actor=ACTOR, username=f"bench_wf_officer_{tag}", password=None, role=Role.OFFICER,
                          department=dept)
    chief = create_user(actor=ACTOR, username=f"bench_wf_chief_{tag}", password=None, role=Role.DEPT_ADMIN,
                        department=dept)
    services.ensure_standard_processes()
    t0 = time.perf_counter()
    instances = [services.start_instance(actor=ACTOR, process_code="standard", subject=f"bench:{i}",
                                         title=f"基准办件{i}", department=dept, context={}, time_limit_days=10)
                 for i in range(size)]
    started = time.perf_counter() - t0
    t1 = time.perf_counter()
    decisions = 0
    for instance in instances:
        for actor in (officer, chief):
            task = instance.tasks.filter(status=TaskStatus.OPEN).get()
            instance = services.complete_task(actor=actor, task=task, outcome=Outcome.APPROVE, opinion="同意")
            decisions += 1
        if progress:
            progress(1)
        if instance.status != InstanceStatus.COMPLETED:
            raise RuntimeError(f"bench case {instance.pk} did not complete: {instance.status}")
    completed = time.perf_counter() - t1
    return {"cases": size, "start_per_s": round(size / started, 1), "complete_per_s": round(decisions / completed, 1),
            "cases_per_s": round(size / (started + completed), 1)}


BENCHMARKS = {"workflow": bench_workflow}
