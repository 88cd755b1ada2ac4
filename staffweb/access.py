"""The staff pages' reads that gather several apps' citizen data on one page, each part fetched through its
own app's access rules (``staffweb.selectors``) and the read logged here, one row per citizen shown, so a
view cannot forget it."""

from backend.actors import Actor
from backend.audit import read_logged
from staffweb.selectors import WorkLists, work_lists


def access_work_lists(actor: Actor) -> WorkLists:
    """The staff member's work lists (``staffweb.selectors.work_lists``), each citizen they show logged as
    reading ``work_list``."""
    lists = work_lists(actor)
    read_logged(actor, lists.citizens, "work_list")
    return lists
