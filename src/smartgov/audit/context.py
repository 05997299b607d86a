"""Request context (the client's IP) that ``record`` adds to every entry, set by the middleware; the
request id comes from ``core.logs`` (the same id the logs carry)."""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestContext:
    ip: str = ""


current: ContextVar[RequestContext] = ContextVar("smartgov_audit_request", default=RequestContext())  # noqa: B039 (frozen)
