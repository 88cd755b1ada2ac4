"""ASGI entry point: websockets in production (uvicorn), and everything in the embedded mode."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from backend.checks import assert_safe_to_serve  # noqa: E402
from notifications.routing import websocket_urlpatterns  # noqa: E402

assert_safe_to_serve()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
