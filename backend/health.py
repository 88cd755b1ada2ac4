"""Liveness and readiness for the service manager and the load balancer.

Readiness follows what a process needs to answer: the database. The channel layer (Redis) only carries
live fan-out, which is best-effort (events wait in the database for the app's replay), so a layer that
cannot be reached makes the process ``degraded``, still 200: taking every web process out of the load
balancer while Redis is down would stop the API that keeps working without it.
"""

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger(__name__)
CHANNEL_LAYER_TIMEOUT_SECONDS = 2.0


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_ready() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 — any failure means not ready
        logger.warning("readiness: database not reachable")
        return False


async def _channel_layer_round_trip() -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False
    channel = await layer.new_channel("readyz.")
    await layer.send(channel, {"type": "readyz.ping"})
    message = await layer.receive(channel)
    return message.get("type") == "readyz.ping"


def _channel_layer_ready() -> bool:
    async def bounded() -> bool:
        return await asyncio.wait_for(_channel_layer_round_trip(), CHANNEL_LAYER_TIMEOUT_SECONDS)

    try:
        return async_to_sync(bounded)()
    except Exception:  # noqa: BLE001
        logger.warning("readiness: channel layer not reachable")
        return False


def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ready(), "channel_layer": _channel_layer_ready()}
    if not checks["database"]:
        return JsonResponse({"status": "unavailable", "checks": checks}, status=503)
    return JsonResponse({"status": "ready" if all(checks.values()) else "degraded", "checks": checks})
