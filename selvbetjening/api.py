"""This app's API routers, mounted by ``backend.api`` under ``/api/v1``."""

from ninja import Router

ROUTERS: list[tuple[str, Router]] = []
