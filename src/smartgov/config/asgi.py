"""The ASGI application (``smartgov hall live``, uvicorn): Django's for HTTP (the live pages' SSE), and the
WebSocket routes, which Django's handler does not take (EPCIS query subscriptions: docs/trace.md)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartgov.config.settings")
django_application = get_asgi_application()

# after get_asgi_application(): the app registry must be ready to import an app's modules
from smartgov.trace.live import subscription_socket  # noqa: E402

WEBSOCKET_ROUTES = (("/api/trace/", subscription_socket),)


async def application(scope, receive, send):
    if scope["type"] == "websocket":
        for prefix, route in WEBSOCKET_ROUTES:
            if scope["path"].startswith(prefix):
                return await route(scope, receive, send)
        await receive()  # websocket.connect
        return await send({"type": "websocket.close", "code": 1008})  # uvicorn answers the handshake 403
    return await django_application(scope, receive, send)
