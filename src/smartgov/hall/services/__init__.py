"""Every write of the hall. Keyword-only, ``actor=``, atomic, audited; one module per part of the visit."""

from .booking import book_appointment, cancel_appointment, ensure_slots, mark_no_shows
from .kiosk import eid_sign_in, fee_for, file_application, prefill, read_document, verify_biometric
from .lockers import collect_from_locker, return_overdue, store_in_locker
from .queue import (
    announcement_text,
    call_next,
    finish_ticket,
    head_start,
    issue_ticket,
    rate_visit,
    recall,
    skip,
    transfer,
)
from .setup import add_lockers, add_service, add_window, assign_duty, create_hall, remove_duty

__all__ = [
    "add_lockers",
    "add_service",
    "add_window",
    "announcement_text",
    "assign_duty",
    "book_appointment",
    "call_next",
    "cancel_appointment",
    "collect_from_locker",
    "create_hall",
    "eid_sign_in",
    "ensure_slots",
    "fee_for",
    "file_application",
    "finish_ticket",
    "head_start",
    "issue_ticket",
    "mark_no_shows",
    "prefill",
    "rate_visit",
    "read_document",
    "recall",
    "remove_duty",
    "return_overdue",
    "skip",
    "store_in_locker",
    "transfer",
    "verify_biometric",
]
