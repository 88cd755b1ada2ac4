"""The serving processes keep what they hold for good out of the garbage collector's full collections
(``config/collector.py``): the WSGI workers of the HTTP API and the ASGI workers of the websockets freeze
what they loaded once the application is made, and again once their first request is answered."""

import ast
import gc
from pathlib import Path

import pytest
from django.core.signals import request_finished

from config.collector import keep_loaded_objects_out_of_collections

CONFIG = Path(__file__).resolve().parent.parent / "config"


@pytest.mark.django_db  # a request's end also closes old database connections
def test_what_was_loaded_is_frozen_and_so_is_what_the_first_request_made_but_not_what_came_after():
    gc.unfreeze()
    gc.collect()
    tracked = len(gc.get_objects())
    try:
        keep_loaded_objects_out_of_collections()
        assert gc.get_freeze_count() > tracked * 0.9
        assert len(gc.get_objects()) < tracked / 100

        made_by_the_first_request = [[index] for index in range(1000)]
        assert len(gc.get_objects()) >= len(made_by_the_first_request)
        frozen = gc.get_freeze_count()
        request_finished.send(sender=None)
        assert gc.get_freeze_count() >= frozen + len(made_by_the_first_request)
        assert len(gc.get_objects()) < len(made_by_the_first_request)

        made_later = [[index] for index in range(1000)]
        request_finished.send(sender=None)
        assert len(gc.get_objects()) >= len(made_later)  # frozen once only: later requests' objects stay
    finally:
        request_finished.disconnect(dispatch_uid="config.collector.after_first_request")
        gc.unfreeze()


def test_both_entry_points_freeze_once_their_application_is_made():
    for name in ("wsgi.py", "asgi.py"):
        tree = ast.parse((CONFIG / name).read_text())
        statements = [ast.unparse(node) for node in tree.body]
        made = next(index for index, text in enumerate(statements) if text.startswith("application ="))
        frozen = statements.index("keep_loaded_objects_out_of_collections()")
        assert frozen > made, name
