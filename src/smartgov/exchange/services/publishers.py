"""Changes that providers make in the platform's own registers, published on the exchange in the same
transaction (the outbox): the market regulator cancels or revokes a market entity (注销/吊销), and
every resource served from the enterprise register that declares that event publishes it."""

from django.db import transaction

from ..models import Event, Resource


@transaction.atomic
def change_enterprise_status(*, actor, enterprise, status: str) -> list[Event]:
    """Set the enterprise's register status through the identity service and publish
    ``enterprise.<status>`` on the register resources that declare it. Either both happen or neither."""
    from smartgov.identity.services import update_enterprise

    update_enterprise(actor=actor, enterprise=enterprise, changes={"status": status})
    from .events import publish_event

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
