"""This app's API routers, mounted by ``backend.api`` under ``/api/v1``."""

from ninja import Router

from selvbetjening.api import citizen, relative, staff

ROUTERS: list[tuple[str, Router]] = [*citizen.ROUTERS, *staff.ROUTERS, *relative.ROUTERS]
