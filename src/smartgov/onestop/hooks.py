"""Hooks other apps register to act on a submitted application (the smart app's 秒批), so onestop never
imports them. Each hook gets the application's primary key after the submission has committed; a hook
that fails is logged and leaves the case where it was (in the officers' queue)."""

import logging
from collections.abc import Callable

from django.db import transaction

log = logging.getLogger("smartgov.onestop.hooks")
SUBMITTED: list[Callable[[int], None]] = []


def on_submitted(fn: Callable[[int], None]) -> None:
    if fn not in SUBMITTED:
        SUBMITTED.append(fn)


def submitted(application_pk: int) -> None:
    """Call inside the submitting transaction: the hooks run once it commits."""
    for fn in SUBMITTED:
        transaction.on_commit(lambda fn=fn: _run(fn, application_pk))


def _run(fn, pk: int) -> None:
    try:
        fn(pk)
    except Exception:
        log.exception("submitted hook %s failed for application %s", getattr(fn, "__name__", fn), pk)
