"""templates routes"""

from ninja import Router

ROUTERS: list[tuple[str, Router]] = []
