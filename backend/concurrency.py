"""Optimistic concurrency: a write names the version it read; a stale version is a 409 and changes nothing.

Models that take part carry a ``version`` integer field (see ``VersionedModel``). A service saves its
changes with ``save_with_version``, which is one compare-and-swap ``UPDATE`` on the primary key *and*
the expected version; when another writer got there first no row matches, nothing is written and
``StaleVersion`` is raised. Call it inside the service's transaction so that any other change the
service made is rolled back with it.
"""

from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models import F

from backend.errors import Conflict


class StaleVersion(Conflict):
    code = "stale_version"
    title = "Someone else changed this in the meantime. Reload it and try again."


class VersionedModel(models.Model):
    """Adds the ``version`` counter that ``save_with_version`` compares and increments."""

    version = models.PositiveIntegerField(default=1, help_text="Incremented by every change; sent back on edits.")

    class Meta:
        abstract = True


def require_version(instance: Any, expected_version: int) -> None:
    """Refuse early (before other work) when the caller's copy is already known to be stale."""
    if instance.version != expected_version:
        raise StaleVersion(current_version=instance.version)


def save_with_version(instance: Any, *, expected_version: int, update_fields: Iterable[str]) -> None:
    """Write ``update_fields`` of ``instance`` only if the stored version is still ``expected_version``.

    On success the stored and the in-memory version are both ``expected_version + 1``.
    """
    fields = [name for name in update_fields if name != "version"]
    values = {name: getattr(instance, name) for name in fields}
    for field in instance._meta.concrete_fields:
        if getattr(field, "auto_now", False):
            field.pre_save(instance, add=False)
            values[field.attname] = getattr(instance, field.attname)
    manager = type(instance)._default_manager
    updated = manager.filter(pk=instance.pk, version=expected_version).update(version=F("version") + 1, **values)
    if updated != 1:
        current = manager.filter(pk=instance.pk).values_list("version", flat=True).first()
        raise StaleVersion(current_version=current)
    instance.version = expected_version + 1
