"""The files the citizen app's shell loads, and a version that changes whenever one of them does.

The service worker precaches exactly these (with the shell itself), so the app opens offline; its
cache name carries the version, so a new deployment replaces the old files in one step.
"""

import hashlib
import json
from functools import cache
from pathlib import Path

from django.contrib.staticfiles import finders
from django.templatetags.static import static

from borgerapp import problems

DKFDS = "staffweb/vendor/dkfds/"
STYLESHEETS = [f"{DKFDS}css/dkfds-borgerdk.min.css", f"{DKFDS}fonts/plex-latin1.css", "borgerapp/app.css"]
FONTS = [
    f"{DKFDS}fonts/IBMPlexSans/split/woff2/IBMPlexSans-Regular-Latin1.woff2",
    # The citizen's own words (a goal's outcome, the therapist's note to an exercise) are in italics.
    f"{DKFDS}fonts/IBMPlexSans/split/woff2/IBMPlexSans-Italic-Latin1.woff2",
    f"{DKFDS}fonts/IBMPlexSans/split/woff2/IBMPlexSans-Medium-Latin1.woff2",
    f"{DKFDS}fonts/IBMPlexSans/split/woff2/IBMPlexSans-SemiBold-Latin1.woff2",
    f"{DKFDS}fonts/IBMPlexSans/split/woff2/IBMPlexSans-Bold-Latin1.woff2",
]
ICONS = [
    f"{DKFDS}img/svg-icons/check.svg",
    f"{DKFDS}img/svg-icons/check-white.svg",
    f"{DKFDS}img/svg-icons/error.svg",
    f"{DKFDS}img/svg-icons/info.svg",
    f"{DKFDS}img/svg-icons/success.svg",
    f"{DKFDS}img/svg-icons/warning.svg",
    "borgerapp/icons/icon-192.png",
    "borgerapp/icons/icon-512.png",
]
MODULES = [
    "borgerapp/js/main.js",
    "borgerapp/js/api.js",
    "borgerapp/js/dom.js",
    "borgerapp/js/i18n.js",
    "borgerapp/js/outbox.js",
    "borgerapp/js/session.js",
    "borgerapp/js/idb.js",
    "borgerapp/js/sync.js",
    "borgerapp/js/chart.js",
    "borgerapp/js/live.js",
    "borgerapp/js/connection.js",
    "borgerapp/js/screens/today.js",
    "borgerapp/js/screens/goals.js",
    "borgerapp/js/screens/plan.js",
    "borgerapp/js/screens/messages.js",
    "borgerapp/js/screens/questionnaires.js",
    "borgerapp/js/screens/network.js",
    "borgerapp/js/screens/access.js",
    "borgerapp/js/screens/me.js",
    "borgerapp/js/screens/relative.js",
]
SHELL_TEMPLATE = Path(__file__).resolve().parent / "templates" / "borgerapp" / "shell.html"
ENTRY = "borgerapp/js/main.js"
# The login page's one script: it forgets the data of an earlier login on this device.
LOGIN_SCRIPT = "borgerapp/js/login.js"
# Fetched at once with the page (modulepreload) instead of one import level after the other.
FIRST_SCREEN = [path for path in MODULES if path != ENTRY and "/screens/" not in path and "chart" not in path] + [
    "borgerapp/js/screens/today.js"
]


def precache_urls() -> list[str]:
    return [static(path) for path in STYLESHEETS + FONTS + ICONS + MODULES]


@cache
def version() -> str:
    """A digest of every precached file's content and of what the shell is made of, its template and the
    problem texts in it (computed once per process): the service worker keeps the shell until this changes."""
    digest = hashlib.sha256()
    for path in STYLESHEETS + FONTS + ICONS + MODULES:
        found = finders.find(path)
        if found:
            with open(str(found), "rb") as file:
                digest.update(file.read())
    digest.update(SHELL_TEMPLATE.read_bytes())
    digest.update(json.dumps(problems.MESSAGES, sort_keys=True).encode())
    return digest.hexdigest()[:12]
