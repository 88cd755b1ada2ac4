"""A browser logged in to the citizen app without the form (the form has its own tests)."""

from typing import Any

import pyotp
from django.test import Client

from backend.models import AppSession
from tests.staffweb.helpers import web_client

PASSWORD = "a-long-demo-password"


def app_client(user: Any, *, enforce_csrf_checks: bool = True) -> Client:
    """A citizen-app browser: a citizen-audience login in its cookie and Django's CSRF cookie, as the
    shell at /app/ leaves them."""
    client = web_client(user, AppSession.Audience.CITIZEN)
    client.handler.enforce_csrf_checks = enforce_csrf_checks
    assert client.get("/app/").status_code == 200
    return client


def csrf_headers(client: Client) -> dict[str, str]:
    return {"X-CSRFToken": client.cookies["csrftoken"].value}


def with_password(user: Any) -> Any:
    user.set_password(PASSWORD)
    user.totp_secret = pyotp.random_base32()
    user.save()
    return user
