"""材料复用 through the exchange: another app (one-stop) fetches a document a department issued, as the
department that handles the case, under that department's agreement, with the applicant's consent. The
call is an ordinary mediated call (agreement, fields, rate limit, signed message log); what comes back
is the document with its provenance (resource, provider, message ID, time), which the caller attaches."""

from smartgov.core.errors import InvalidInput

from ..models import Message
from .calls import _iso, call_resource


def fetch_document(*, actor, consumer, resource_code: str, id_number: str, purpose: str,
                   consent: bool) -> dict | None:
    """The document about the person with ``id_number`` from ``resource_code``, or None if the provider
    holds none. Raises the call's ``DomainError`` (no agreement, provider down …) so the caller can ask
    for an upload instead."""
    if not consent:
        raise InvalidInput("调取其他部门的证明须经申请人授权同意", code="consent_required")

    out = call_resource(actor=actor, consumer=consumer, resource_code=resource_code,
                        params={"id_number": id_number}, purpose=purpose)
    if not out.found:
        return None
    msg = Message.objects.select_related("resource", "provider").get(message_id=out.message_id)
    return {"resource": msg.resource.code, "resource_name": msg.resource.name, "provider": msg.provider.name,
            "message_id": msg.message_id, "at": _iso(msg.at), "request_sm3": msg.request_sm3,
            "response_sm3": msg.response_sm3, "data": out.data, "masked": out.masked}
