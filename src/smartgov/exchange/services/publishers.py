"""Changes that providers make in the platform's own registers, published on the exchange in the same
transaction (the outbox): the market regulator cancels or revokes a market entity (注销/吊销), and
every resource served from the enterprise register that declares that event publishes it; a licence is
issued, revoked or cancelled, and every resource served from the licence library for that kind of
holder that declares the event publishes it (``licence_changed``, registered on ``licences.hooks``)."""

from django.db import models, transaction

from smartgov.core.permissions import system_actor
from smartgov.identity.services import update_enterprise

from ..models import Event, Resource, ResourceVersion
from .events import publish_event

# the licence library's adapters (exchange/providers.py), by the kind of holder they answer for
LICENCE_ADAPTERS = {"person": "licences.person", "enterprise": "licences.enterprise"}
PUBLISHER = system_actor("exchange.publisher")


@transaction.atomic
def change_enterprise_status(*, actor, enterprise, status: str) -> list[Event]:
    """Set the enterprise's register status through the identity service and publish
    ``enterprise.<status>`` on the register resources that declare it. Either both happen or neither."""
    update_enterprise(actor=actor, enterprise=enterprise, changes={"status": status})

    event_type = f"enterprise.{status}"
    events = []
    for resource in Resource.objects.select_related("department").filter(active=True):
        content = resource.versions.get(version=resource.current_version).parsed
        if content.served_by.kind == "internal" and content.served_by.adapter == "identity.enterprise" \
                and event_type in content.events:
            events.append(publish_event(actor=actor, resource=resource, event_type=event_type,
                                        subject=enterprise.uscc,
                                        data={"name": enterprise.name, "status": enterprise.get_status_display()}))
    return events


def licence_changed(*, licence, event_type: str) -> list[Event]:
    """Publish ``event_type`` about ``licence`` on every active resource served from the licence library
    for its kind of holder that declares that event: subject the holder's ID number or USCC, data the
    licence type's code and the identifier. Runs inside the licence's own transaction (one query when
    no resource declares it)."""
    person = licence.holder_person
    adapter = LICENCE_ADAPTERS["person" if person is not None else "enterprise"]
    versions = (ResourceVersion.objects.select_related("resource", "resource__department")
                .filter(resource__active=True, version=models.F("resource__current_version"),
                        content__served_by__adapter=adapter))
    subject = person.id_number if person is not None else licence.holder_enterprise.uscc
    events = []
    for version in versions:
        if version.parsed.served_by.kind == "internal" and event_type in version.parsed.events:
            events.append(publish_event(actor=PUBLISHER, resource=version.resource, event_type=event_type,
                                        subject=subject, data={"type_code": licence.licence_type.code,
                                                               "identifier": licence.identifier}))
    return events
