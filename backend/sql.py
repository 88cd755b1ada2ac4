"""The one convention for hand-written SQL (used only where ``bench/`` shows it pays).

Table and column names come from the models' metadata, quoted by the connection, never typed into a
statement; lists of values are placeholders, and every value is a parameter.
"""

from django.db import connection
from django.db.models import Field, Model


def table(model: type[Model]) -> str:
    """The model's table, quoted."""
    return connection.ops.quote_name(model._meta.db_table)


def model_field(model: type[Model], name: str) -> Field:
    found = model._meta.get_field(name)
    assert isinstance(found, Field), f"{model.__name__}.{name} is not a concrete field"
    return found


def column(model: type[Model], name: str, alias: str = "") -> str:
    """A field's column (``name`` is the field's name, e.g. ``session`` for ``session_id``), quoted and
    prefixed with ``alias.`` when given."""
    quoted = connection.ops.quote_name(str(model_field(model, name).column))
    return f"{alias}.{quoted}" if alias else quoted


def placeholders(count: int) -> str:
    """``%s, %s, …``: ``count`` placeholders for an ``IN`` list or a row of values."""
    return ", ".join(["%s"] * count)
