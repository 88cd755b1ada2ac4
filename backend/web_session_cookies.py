"""Two browser-session cookies: the citizen app's (SameSite=Strict) and the staff web's (Lax).

The citizen app at /app/ and the API it calls keep their login in ``APP_SESSION_COOKIE_NAME``, which the
browser sends only on requests started by the platform's own pages: a link or form on another site
cannot carry it. The staff web, the admin and the staff login's return keep Django's session cookie
(``SESSION_COOKIE_NAME``, Lax, so that a link in an e-mail to a staff page opens logged in).

``WebSessionMiddleware`` is Django's ``SessionMiddleware`` with the cookie chosen by the request's path;
its response handling is Django's, for the chosen cookie.
"""

import time
from typing import Literal, cast

from django.conf import settings
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.exceptions import SessionInterrupted
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date

APP_PREFIXES = ("/app/", "/api/")
# The staff login returns to the API's callback and ends in a staff-web (or admin) session.
STAFF_PREFIXES = ("/api/v1/auth/staff/",)


def uses_app_cookie(path: str) -> bool:
    """The citizen app's pages and the API (whose only cookie login is the citizen app's)."""
    return path.startswith(APP_PREFIXES) and not path.startswith(STAFF_PREFIXES)


SameSite = Literal["Lax", "Strict", "None"]


def session_cookie_of(path: str) -> tuple[str, SameSite]:
    """The name and SameSite attribute of the session cookie for a request to ``path``."""
    if uses_app_cookie(path):
        return settings.APP_SESSION_COOKIE_NAME, cast(SameSite, settings.APP_SESSION_COOKIE_SAMESITE)
    return settings.SESSION_COOKIE_NAME, cast(SameSite, settings.SESSION_COOKIE_SAMESITE)


class WebSessionMiddleware(SessionMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        name, _ = session_cookie_of(request.path)
        request.session = self.SessionStore(request.COOKIES.get(name))

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        try:
            accessed = request.session.accessed
            modified = request.session.modified
            empty = request.session.is_empty()
        except AttributeError:
            return response
        name, samesite = session_cookie_of(request.path)
        if name in request.COOKIES and empty:
            response.delete_cookie(
                name, path=settings.SESSION_COOKIE_PATH, domain=settings.SESSION_COOKIE_DOMAIN, samesite=samesite
            )
            need_vary_cookie = True
        else:
            need_vary_cookie = accessed
            if (modified or settings.SESSION_SAVE_EVERY_REQUEST) and not empty:
                if request.session.get_expire_at_browser_close():
                    max_age = None
                    expires = None
                else:
                    max_age = request.session.get_expiry_age()
                    expires = http_date(time.time() + max_age)
                if response.status_code < 500:
                    try:
                        request.session.save()
                    except UpdateError as exc:
                        raise SessionInterrupted(
                            "The request's session was deleted before the request completed."
                        ) from exc
                    response.set_cookie(
                        name,
                        request.session.session_key or "",
                        max_age=max_age,
                        expires=expires,
                        domain=settings.SESSION_COOKIE_DOMAIN,
                        path=settings.SESSION_COOKIE_PATH,
                        secure=bool(settings.SESSION_COOKIE_SECURE),
                        httponly=bool(settings.SESSION_COOKIE_HTTPONLY),
                        samesite=samesite,
                    )
                    need_vary_cookie = True
        if need_vary_cookie:
            patch_vary_headers(response, ("Cookie",))
        return response
