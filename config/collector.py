"""The cyclic garbage collector in the serving processes (gunicorn's and uvicorn's workers).

A worker holds some 200,000 objects that live as long as it does: about 150,000 made while it starts
(Django, the URL conf, the apps) and 50,000 more made by its first request (the URL resolver, the API's
schemas and their validators, the translation catalogues). Left with the collector, every full collection
walks them all, about 90 ms on the benchmark machine with every request of the process waiting (bench/README.md,
"/me/today at half of saturation"). So they go to the permanent generation, out of its walks, twice: once
the application is made, and once the first request has been answered. Reference counting still frees at
once everything that is not in a cycle, and the collections that remain walk only what requests leave
behind.
"""

import gc
from typing import Any

from django.core.signals import request_finished

_AFTER_FIRST_REQUEST = "config.collector.after_first_request"


def _freeze() -> None:
    gc.collect()
    gc.freeze()


def _after_first_request(**_kwargs: Any) -> None:
    request_finished.disconnect(dispatch_uid=_AFTER_FIRST_REQUEST)
    _freeze()


def keep_loaded_objects_out_of_collections() -> None:
    """Freeze what the process holds now, and again once its first request is answered: call once the
    application is made, before the first request."""
    _freeze()
    request_finished.connect(_after_first_request, weak=False, dispatch_uid=_AFTER_FIRST_REQUEST)
