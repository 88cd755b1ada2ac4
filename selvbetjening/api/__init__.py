"""This app's API routers, mounted by ``config.api`` under ``/api/v1``."""

from ninja import Router

from selvbetjening.api import citizen, exercises, plans, progress, relative, staff, templates, training

ROUTERS: list[tuple[str, Router]] = [
    *citizen.ROUTERS,
    *staff.ROUTERS,
    *relative.ROUTERS,
    *exercises.ROUTERS,
    *templates.ROUTERS,
    *plans.ROUTERS,
    *training.ROUTERS,
    *progress.ROUTERS,
]
