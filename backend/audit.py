"""Writing the access log: one row per citizen per read or write of their personal data.

Every logged request inserts rows, so the statement is written once per database vendor and row count
from the model's own fields (it follows every field a migration adds), and the values go through the
same preparation the ORM gives them: ``bulk_create`` compiled the statement anew on each request, at
several times the cost of running it.
"""

from collections.abc import Iterable

from django.db import connection

from backend.actors import CITIZEN, RELATIVE, Actor
from backend.context import current_request_id
from backend.models import AccessLogEntry, Citizen, StaffRole

Action = AccessLogEntry.Action
Purpose = AccessLogEntry.Purpose

DEFAULT_PURPOSE = {
    CITIZEN: Purpose.OWN_USE,
    RELATIVE: Purpose.RELATIVE_SUPPORT,
    StaffRole.CARE_WORKER.value: Purpose.CARE,
    StaffRole.THERAPIST.value: Purpose.CARE,
    StaffRole.TEAM_LEAD.value: Purpose.FOLLOW_UP,
    StaffRole.IT.value: Purpose.DEVICE_INSTALLATION,
    StaffRole.ANALYST.value: Purpose.FOLLOW_UP,
}


def access_log_record(
    *,
    actor: Actor,
    citizens: Iterable[Citizen],
    resource_type: str,
    action: str,
    resource_id: str = "",
    purpose: str | None = None,
) -> None:
    """Append one row per citizen in a single query.

    Call it before a read's data is returned and inside a write's transaction, so that data never
    leaves, and no change is kept, without its log row. Any failure propagates.
    """
    role = actor.audit_role
    rows = [
        AccessLogEntry(
            actor_id=actor.user.pk,
            actor_name=actor.user.display_name,
            actor_role=role,
            citizen=citizen,
            resource_type=resource_type,
            resource_id=resource_id or str(citizen.pk),
            action=action,
            purpose=purpose or DEFAULT_PURPOSE.get(role, Purpose.CARE),
            request_id=current_request_id(),
        )
        for citizen in citizens
    ]
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        batch = rows[start : start + ROWS_PER_STATEMENT]
        params = [field.get_db_prep_save(field.pre_save(row, True), connection) for row in batch for field in _FIELDS]
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(len(batch)), params)


ROWS_PER_STATEMENT = 500
# Statements kept for the row counts most requests have; a larger one is written again each time.
MAX_CACHED_ROW_COUNT = 64
_FIELDS = [field for field in AccessLogEntry._meta.concrete_fields if not field.primary_key]
_inserts: dict[tuple[str, int], str] = {}


def _insert_sql(count: int) -> str:
    key = (connection.vendor, count)
    sql = _inserts.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(str(field.column)) for field in _FIELDS)
        row = "(" + ", ".join(["%s"] * len(_FIELDS)) + ")"
        table = quote(AccessLogEntry._meta.db_table)
        # Names from the model's metadata and placeholders only; every value is a parameter.
        sql = f"INSERT INTO {table} ({columns}) VALUES " + ", ".join([row] * count)  # noqa: S608
        if count <= MAX_CACHED_ROW_COUNT:
            _inserts[key] = sql
    return sql
