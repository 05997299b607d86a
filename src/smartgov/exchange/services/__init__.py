"""Every write of the exchange, by part: the catalogue, agreements, mediated calls with the message log
and its batch timestamps, and events. The same public names as one module would have."""

from .agreements import apply_for_resource, approve_agreement, refuse_agreement, revoke_agreement
from .calls import (
    CallResult,
    RateLimited,
    TimestampUnavailable,
    call_resource,
    export_evidence,
    seal_all,
    seal_batch,
    timestamping_healthy,
)
from .catalogue import import_resources, parse_content, publish_resource, set_resource_active
from .documents import fetch_document
from .events import (
    deliver_due,
    publish_event,
    redeliver_dead,
    register_handler,
    replay_from,
    subscribe,
    unsubscribe,
    webhook_signature,
)
from .keys import authenticate_key, issue_key, revoke_key
from .publishers import change_enterprise_status

__all__ = [
    "CallResult", "RateLimited", "TimestampUnavailable", "apply_for_resource", "approve_agreement",
    "authenticate_key", "call_resource", "change_enterprise_status", "deliver_due", "export_evidence", "fetch_document", "import_resources", "issue_key",
    "parse_content", "publish_event", "publish_resource", "redeliver_dead", "refuse_agreement",
    "register_handler", "replay_from", "revoke_agreement", "revoke_key", "seal_all", "seal_batch",
    "set_resource_active", "subscribe", "timestamping_healthy", "unsubscribe", "webhook_signature",
]
