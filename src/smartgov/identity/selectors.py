"""Reads of the register that more than one caller needs (pages, API, exports, admin), scoped to the
actor's departments. Lookups by ID number that should leave a trace go through
``services.find_person_by_id_number``."""

from django.core.exceptions import ValidationError

from smartgov.core.errors import NotFound
from smartgov.core.fields import blind_lookup
from smartgov.core.permissions import require, scope
from smartgov.core.validators import parse_uscc

from .models import Enterprise, ImportRun, Person


def persons_for(actor, *, name: str = ""):
    """Persons the actor may see, newest first; ``name`` narrows by part of the name."""
    require(actor, "identity.view_register")
    qs = scope(actor, Person.objects.select_related("department")).order_by("-id")
    if name:
        qs = qs.filter(name__icontains=name.strip())
    return qs


def person_by_id_number(queryset, id_number: str):
    """Narrow ``queryset`` to the person with exactly this (already checked) ID number, via its blind index."""
    return queryset.filter(**blind_lookup(Person, "id_number", id_number))


def id_number_index(id_number: str) -> str:
    """The blind index of a (checked) ID number, as the register and exchange events keep it."""
    return blind_lookup(Person, "id_number", id_number)["id_number_bidx"]


def person_by_id_number_index(queryset, index: str):
    """Narrow ``queryset`` to the person whose ID number has this blind index (an exchange event about a
    person carries it, so a subscriber matches the person without the clear number)."""
    return queryset.filter(id_number_bidx=index) if index else queryset.none()


def get_person_for(actor, person_id: int) -> Person:
    """One person, or 404 when it does not exist or is outside the actor's departments."""
    person = Person.objects.select_related("department").filter(pk=person_id).first()
    if person is None:
        raise NotFound()
    require(actor, "identity.view_register", department=person.department, hide=True)
    return person


def enterprises_for(actor, *, q: str = ""):
    """Enterprises the actor may see; ``q`` is a USCC (exact) or part of the name."""
    require(actor, "identity.view_register")
    qs = scope(actor, Enterprise.objects.select_related("department", "legal_representative")).order_by("-id")
    q = (q or "").strip()
    if q:
        try:
            qs = qs.filter(uscc=parse_uscc(q).normalized)
        except ValidationError:
            qs = qs.filter(name__icontains=q)
    return qs


def get_enterprise_for(actor, enterprise_id: int) -> Enterprise:
    enterprise = (Enterprise.objects.select_related("department", "legal_representative")
                  .filter(pk=enterprise_id).first())
    if enterprise is None:
        raise NotFound()
    require(actor, "identity.view_register", department=enterprise.department, hide=True)
    return enterprise


def import_runs_for(actor):
    require(actor, "identity.import_register")
    return scope(actor, ImportRun.objects.select_related("department", "actor"))


def get_import_run_for(actor, run_id: int) -> ImportRun:
    run = ImportRun.objects.select_related("department").filter(pk=run_id).first()
    if run is None:
        raise NotFound()
    require(actor, "identity.import_register", department=run.department, hide=True)
    return run
