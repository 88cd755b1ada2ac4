"""A staff web login for the triage benchmark, made as the login page makes one: an ``AppSession`` of the staff
audience whose id sits in a Django session. Run by ``python -m bench.triage`` after the caseload seed::

    python -m bench.triage.web_login --out DIR

Writes ``web_login.json`` to ``DIR``: the ``Cookie`` header of the login, and the bearer token of the same
therapist (the first of the seed's ``staff_tokens.txt``), so that page and API are asked by one person.
"""

import argparse
import json
import os
import sys
from pathlib import Path


def login(out: Path) -> None:
    from importlib import import_module

    from django.conf import settings

    from backend.models import AppSession, Token
    from backend.services.identity import ClientInfo, session_start
    from backend.tokens import hash_secret

    token = next(line for line in (out / "staff_tokens.txt").read_text().splitlines() if line)
    user = Token.objects.select_related("session__user").get(token_hash=hash_secret(token)).session.user
    pair = session_start(
        user=user, audience=AppSession.Audience.STAFF, client=ClientInfo("127.0.0.1", "mestring-bench-web")
    )
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[f"web_session:{AppSession.Audience.STAFF}"] = str(pair.session.pk)
    store.create()
    cookie = f"{settings.SESSION_COOKIE_NAME}={store.session_key}"
    (out / "web_login.json").write_text(json.dumps({"cookie": cookie, "token": token}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.triage.web_login")
    parser.add_argument("--out", type=Path, required=True)
    arguments = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    login(arguments.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
