"""WSGI entry point: the HTTP API, admin and auth pages in production (gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from backend.checks import assert_safe_to_serve  # noqa: E402

assert_safe_to_serve()

from config.collector import keep_loaded_objects_out_of_collections  # noqa: E402

keep_loaded_objects_out_of_collections()
