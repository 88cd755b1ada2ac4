"""The citizen app's pages (/app/) in the role × operation matrix (see tests/matrix.py, ``PAGE_ROWS``).

Each role comes with the browser login it can have: citizens and relatives are logged in to the app;
staff, IT and analysts to the staff web in the same browser, which is no login to the app; anonymous
and devices have none. The shell holds no personal data (the screens fetch it from the API, whose rows
are in the other apps' files), so any app login gets it and everyone else the login page; what a
relative may see the API decides, grant by grant.
"""

from tests.matrix import Row, same_for_all, statuses

APP_LOGINS = ("citizen", "other_citizen", "relative_with_consent", "relative_without_consent")


def app_login(status: int, other: int) -> dict[str, int]:
    """``status`` for a browser logged in to the app, ``other`` for every other browser."""
    return statuses(other, anonymous=other, device=other, **dict.fromkeys(APP_LOGINS, status))


ROWS: list[Row] = [
    Row("GET", "/app/", app_login(200, 302)),
    Row("GET", "/app/log-ind/", app_login(302, 200)),
    # An empty form: the fields are named as missing, and nothing is logged in or counted.
    Row("POST", "/app/log-ind/", app_login(302, 200), body=lambda w: {}),
    Row("GET", "/app/log-ind/mitid/", same_for_all(404)),  # no identity provider in the test settings
    Row("GET", "/app/log-ud/", same_for_all(405)),
    Row("POST", "/app/log-ud/", same_for_all(302)),
    Row("GET", "/app/log-ud-alle/", same_for_all(405)),
    Row("POST", "/app/log-ud-alle/", same_for_all(302)),
    # The language of the login page and the app on this device (Django's set_language): anybody may choose.
    Row("GET", "/app/sprog/", same_for_all(302)),
    Row("POST", "/app/sprog/", same_for_all(302), body=lambda w: {"language": "en", "next": "/app/log-ind/"}),
    Row("GET", "/app/manifest.webmanifest", same_for_all(200)),
    Row("GET", "/app/sw.js", same_for_all(200)),
]
