"""``smartgov bench accounts``: the account writes and the permission checks every request makes.

- ``create_user_per_s``: staff accounts created through ``services.create_user`` (validated, audited);
- ``require_per_s``: ``require()`` with a department-scope check, the call every write makes first;
- ``scope_query_ms``: one scoped list query (``scope()`` over the departments below a supervisor's).
"""

import secrets
import time

from django.db import connection

from smartgov.core.permissions import Role, require, scope, system_actor

from . import services
from .models import Department, Level, User

ACTOR = system_actor("accounts.bench")


def bench_accounts(*, size: int = 1000, progress=None) -> dict:
    tag = secrets.token_hex(3)
    root = services.create_department(actor=ACTOR, name=f"账号基准测试局{tag}", code=f"BENCH-AC-{tag}",
                                      level=Level.CITY)
    child = services.create_department(actor=ACTOR, name=f"账号基准测试区{tag}", code=f"BENCH-AC-{tag}-1",
                                       level=Level.COUNTY, parent=root)
    t0 = time.perf_counter()
    for i in range(size):
        services.create_user(actor=ACTOR, username=f"bench_ac_{tag}_{i}", password=None, role=Role.OFFICER,
                             name=f"基准{i}", department=child if i % 2 else root)
        if progress:
            progress(1)
    created = time.perf_counter() - t0
    supervisor = services.create_user(actor=ACTOR, username=f"bench_ac_{tag}_sup", password=None,
                                      role=Role.SUPERVISOR, department=root)
    checks = size * 50
    t1 = time.perf_counter()
    for _ in range(checks):
        require(supervisor, "accounts.view_user", department=child)
    required = time.perf_counter() - t1
    t2 = time.perf_counter()
    rows = len(scope(supervisor, User.objects.filter(department__in=Department.objects.filter(pk__in=[root.pk, child.pk]))))
    scoped = time.perf_counter() - t2
    assert rows == size + 1, rows
    return {"users": size, "create_user_per_s": round(size / created, 1), "require_per_s": round(checks / required),
            "scope_query_ms": round(scoped * 1000, 2), "database": connection.vendor}


BENCHMARKS = {"accounts": bench_accounts}
