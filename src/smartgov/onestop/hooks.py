"""Hooks other apps register so onestop never imports them (no import circle: they import onestop).

- ``on_submitted``: act on a submitted application (the smart app's 秒批). Each hook gets the
  application's primary key after the submission has committed; a hook that fails is logged and leaves
  the case where it was (in the officers' queue).
- ``on_validate``: an app's own checks of an application to one of its items (park: the unit of a repair
  request must be one the applying enterprise leases). A validator gets ``item``, ``form`` (the submitted
  values), ``enterprise`` (the register record applied for, or None) and ``actor``, and returns the problems
  keyed by field (empty when it has nothing to say); they are reported with the form's own errors and
  nothing is written.
- ``on_material_review``: 智能预审 of an uploaded material (the smart app's OCR). ``run`` reads a
  stored upload as the applicant chose it and returns what it found; ``read`` gives the officer the
  results kept for the files of a case. Without a registered reviewer, uploads are simply not
  pre-reviewed. A review is a dict::

      {"kind_label": "居民身份证", "fields": [{"key", "label", "value", "problem"}],
       "problems": [{"field", "message"}], "unread": "why it could not be read, or empty"}
"""

import logging
from collections.abc import Callable

from django.db import transaction

log = logging.getLogger("smartgov.onestop.hooks")
SUBMITTED: list[Callable[[int], None]] = []
VALIDATORS: list[Callable[..., dict[str, str]]] = []
# run(actor=, stored=, material_name=, expected=) -> review | None; read(stored_ids) -> {stored_id: review}
MATERIAL_REVIEWERS: list[tuple[Callable[..., dict | None], Callable[[list[int]], dict[int, dict]]]] = []


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


def on_validate(fn: Callable[..., dict[str, str]]) -> None:
    if fn not in VALIDATORS:
        VALIDATORS.append(fn)


def validate(*, item, form: dict, enterprise, actor) -> dict[str, str]:
    """Every registered validator's problems with this application (a validator that fails is a bug: it
    raises, and the application is not filed)."""
    errors: dict[str, str] = {}
    for fn in VALIDATORS:
        errors.update(fn(item=item, form=form, enterprise=enterprise, actor=actor) or {})
    return errors


def on_material_review(*, run: Callable[..., dict | None], read: Callable[[list[int]], dict[int, dict]]) -> None:
    if (run, read) not in MATERIAL_REVIEWERS:
        MATERIAL_REVIEWERS.append((run, read))


def review_material(*, actor, stored, material_name: str, expected: dict) -> dict | None:
    """Pre-review one stored upload at once (the applicant is waiting). ``expected``: what the form and
    the register say (``name``, ``id_number``, ``uscc``, ``enterprise_name``). None when no reviewer
    reads this kind of material; a reviewer that fails is logged and the upload stays as it is."""
    for run, _read in MATERIAL_REVIEWERS:
        try:
            review = run(actor=actor, stored=stored, material_name=material_name, expected=expected)
        except Exception:
            log.exception("material review failed for stored material %s", getattr(stored, "pk", stored))
            continue
        if review is not None:
            return review
    return None


def material_reviews(stored_ids: list[int]) -> dict[int, dict]:
    """The kept pre-review of each of these stored files (latest per file), for the officer's case page."""
    out: dict[int, dict] = {}
    for _run_fn, read in MATERIAL_REVIEWERS:
        for pk, review in read(list(stored_ids)).items():
            out.setdefault(pk, review)
    return out
