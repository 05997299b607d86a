"""Request context (IP, request id) that ``record`` adds to every entry, set by the middleware."""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestContext:
    ip: str = ""
    request_id: str = ""


current: ContextVar[RequestContext] = ContextVar("smartgov_audit_request", default=RequestContext())  # noqa: B039 (frozen)
