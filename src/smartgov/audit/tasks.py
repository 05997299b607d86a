from django.conf import settings
from django.tasks import task

from smartgov.core.permissions import system_actor
from smartgov.core.tasks import schedule_next

from .services import cut_checkpoint, verify_and_keep

CHECKPOINT_EVERY_SECONDS = 60


@task()
def cut_audit_checkpoint() -> int | None:
    """Sign a Merkle checkpoint at the current head (no-op if nothing new); then queue the next run."""
    cp = cut_checkpoint()
    schedule_next(cut_audit_checkpoint, CHECKPOINT_EVERY_SECONDS)
    return cp.tree_size if cp else None


@task()
def verify_audit_trail() -> bool:
    """Verify the whole trail and keep the result (what the city overview's 审计链状态 shows); then queue the next run."""
    result = verify_and_keep(actor=system_actor("audit.verify"), workers=1)  # never fork inside the worker
    schedule_next(verify_audit_trail, settings.AUDIT_VERIFY_SECONDS)
    return result.ok
