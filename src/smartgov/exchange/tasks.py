"""Background work of the exchange: sealing the message log into signed batch timestamps (periodic, on
the worker) — the webhook delivery runs as its own process, ``smartgov exchange deliver``."""

from django.conf import settings
from django.tasks import task

from smartgov.core.permissions import system_actor
from smartgov.core.tasks import schedule_next

from .services import seal_all

SEAL_EVERY_SECONDS = settings.EXCHANGE_SEAL_SECONDS


@task()
def seal_exchange_batch() -> int:
    try:
        return seal_all(actor=system_actor("exchange.seal"))
    finally:
        schedule_next(seal_exchange_batch, SEAL_EVERY_SECONDS)
