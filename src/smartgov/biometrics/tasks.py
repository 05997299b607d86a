from django.tasks import task

from smartgov.core.tasks import schedule_next

from .index import checkpoint_index
from .modalities import MODALITIES

CHECKPOINT_EVERY_SECONDS = 300


@task()
def checkpoint_biometric_indexes() -> dict:
    """Catch every modality's index up with the database and write it to disk (rebuilding one that has
    outgrown its kind), so app servers start from a recent checkpoint; then queue the next run."""
    done = {modality: checkpoint_index(modality)["count"] for modality in MODALITIES}
    schedule_next(checkpoint_biometric_indexes, CHECKPOINT_EVERY_SECONDS)
    return done
