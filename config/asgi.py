"""ASGI entry point: websockets in production (uvicorn), and everything in the embedded mode."""

import gc
import os
from concurrent.futures import ThreadPoolExecutor

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from backend.checks import assert_safe_to_serve  # noqa: E402
from config.collector import keep_loaded_objects_out_of_collections  # noqa: E402
from notifications.routing import websocket_urlpatterns  # noqa: E402


def _check_before_serving() -> None:
    """The start-up check queries the database; uvicorn imports this module inside its event loop,
    where Django refuses synchronous queries, so the check runs in a thread of its own."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        executor.submit(assert_safe_to_serve).result()


_check_before_serving()

# The embedded mode serves the admin's static files itself; production leaves them to the proxy.
http_application = ASGIStaticFilesHandler(django_asgi_app) if settings.DEBUG else django_asgi_app

application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": URLRouter(websocket_urlpatterns),
    }
)

# Everything made while starting up lives as long as the process: kept out of the cyclic garbage collector,
# whose full collections otherwise stop a websocket process holding thousands of sockets for a tenth of a
# second or more.
keep_loaded_objects_out_of_collections()
# A process holding 5,000 open sockets stopped for 0.3–0.4 s in each full collection, several times a
# minute under load, and that was the whole tail of its event latency (bench/README.md, "Realtime"). Young
# collections run after 50,000 allocations instead of 700, and a full one is considered after about a
# billion instead of 70,000; reference counting still frees at once everything that is not in a cycle.
gc.set_threshold(50_000, 20, 1000)
