from django.tasks import task

from smartgov.core.tasks import schedule_next

CHECKPOINT_EVERY_SECONDS = 60


@task()
def cut_audit_checkpoint() -> int | None:
    """Sign a Merkle checkpoint at the current head (no-op if nothing new); then queue the next run."""
    from .services import cut_checkpoint

    cp = cut_checkpoint()
    schedule_next(cut_audit_checkpoint, CHECKPOINT_EVERY_SECONDS)
    return cp.tree_size if cp else None
