"""Notifications to applicants: always the portal inbox, plus any senders named in
``SMARTGOV_NOTIFY_SENDERS`` (dotted paths of ``send(user, title, body)`` callables, e.g. an SMS or
email gateway). A sender that fails is logged and never undoes the case change."""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import Notification

log = logging.getLogger("smartgov.onestop.notify")


def send(*, user, title: str, body: str = "", application=None) -> Notification:
    note = Notification.objects.create(user=user, application=application, title=title[:200], body=body)
    senders = getattr(settings, "SMARTGOV_NOTIFY_SENDERS", ())
    if senders:
        transaction.on_commit(lambda: _deliver(senders, user, title, body))
    return note


def mark_read(*, user, ids: list[int] | None = None) -> int:
    """Mark the user's own inbox messages read (all of them when ``ids`` is None)."""
    notes = Notification.objects.filter(user=user, read_at=None)
    if ids is not None:
        notes = notes.filter(pk__in=ids)
    return notes.update(read_at=timezone.now())


def _deliver(senders, user, title, body) -> None:
    for path in senders:
        try:
            import_string(path)(user, title, body)
        except Exception:
            log.exception("notification sender %s failed", path)


def log_sender(user, title: str, body: str) -> None:
    """A sender for development: writes the message to the log instead of a gateway."""
    log.info("notify %s: %s — %s", user.pk, title, body)
