from tests.matrix import Row, statuses

ROWS = [
    Row("GET", "/api/v1/device/me", statuses(401, device=200)),
]
