from .context import RequestContext, current


class RequestContextMiddleware:
    """Remembers the client IP for audit (the request id is ``core.logs``', set by RequestIdMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current.set(RequestContext(ip=request.META.get("REMOTE_ADDR", "")))
        try:
            return self.get_response(request)
        finally:
            current.reset(token)
