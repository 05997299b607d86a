"""Hooks other apps register to hear of a licence as it changes, inside the transaction that changes it
— so the data exchange can publish ``licence.issued`` / ``licence.revoked`` through its outbox, committed
with the licence or not at all. Licences never imports them (they import licences: no import circle)."""

from collections.abc import Callable

CHANGED: list[Callable[..., None]] = []


def on_licence_change(fn: Callable[..., None]) -> None:
    """``fn(licence=, event_type=)`` with ``event_type`` ``licence.issued``, ``licence.revoked`` or
    ``licence.cancelled``. An exception rolls the change back: the change and its publication go together."""
    if fn not in CHANGED:
        CHANGED.append(fn)


def changed(*, licence, event_type: str) -> None:
    for fn in CHANGED:
        fn(licence=licence, event_type=event_type)
