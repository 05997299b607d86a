import uuid

from .context import RequestContext, current


class RequestContextMiddleware:
    """Gives each request an id (echoed in ``X-Request-ID``) and remembers the client IP for audit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = request.headers.get("X-Request-ID", "")[:32] or uuid.uuid4().hex
        ip = request.META.get("REMOTE_ADDR", "")
        token = current.set(RequestContext(ip=ip, request_id=rid))
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        response["X-Request-ID"] = rid
        return response
