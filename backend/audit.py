"""Writing the access log: one row per citizen per read or write of their personal data.

Every logged request inserts rows, so the statement is written once per database vendor and row count
from the model's own fields (it follows every field a migration adds), and the values go through the
same preparation the ORM gives them: ``bulk_create`` compiled the statement anew on each request, at
several times the cost of running it.
"""

from collections.abc import Iterable, Iterator, Mapping
from uuid import UUID

from django.db import connection

from backend import sql
from backend.access.declaration import declared
from backend.actors import Actor
from backend.context import current_request_id, logged_citizens_var
from backend.models import AccessLogEntry, Citizen

Action = AccessLogEntry.Action
Purpose = AccessLogEntry.Purpose


class _DeclaredPurposes(Mapping[str, str]):
    """Each role's purpose in the access log, as the access declaration in force gives it."""

    def __getitem__(self, role: str) -> str:
        return declared().purposes[role]

    def __iter__(self) -> Iterator[str]:
        return iter(declared().purposes)

    def __len__(self) -> int:
        return len(declared().purposes)


DEFAULT_PURPOSE: Mapping[str, str] = _DeclaredPurposes()


def purpose_of(role: str) -> str:
    """The purpose a read or write in ``role`` is logged for when the caller names none (care, for a staff
    login holding no declared role)."""
    return declared().purposes.get(role, Purpose.CARE)


type CitizenRef = Citizen | UUID


def _citizen_id(citizen: CitizenRef) -> UUID:
    if isinstance(citizen, Citizen):
        return citizen.pk
    return citizen if isinstance(citizen, UUID) else UUID(str(citizen))


def access_log_record(
    *,
    actor: Actor,
    citizens: Iterable[CitizenRef],
    resource_type: str,
    action: str,
    resource_id: str = "",
    purpose: str | None = None,
) -> None:
    """Append one row per citizen in a single query (the same citizen listed twice gets one row).

    Call it before a read's data is returned and inside a write's transaction, so that data never
    leaves, and no change is kept, without its log row. Any failure propagates. ``citizens`` are
    citizens or their ids.
    """
    role = actor.audit_role
    purpose = purpose or purpose_of(role)
    citizen_ids = list(dict.fromkeys(_citizen_id(citizen) for citizen in citizens))
    rows = [
        AccessLogEntry(
            actor_id=actor.user.pk,
            actor_name=actor.user.display_name,
            actor_role=role,
            citizen_id=citizen_id,
            resource_type=resource_type,
            resource_id=resource_id or str(citizen_id),
            action=action,
            purpose=purpose,
            request_id=current_request_id(),
        )
        for citizen_id in citizen_ids
    ]
    _insert(rows)
    logged = logged_citizens_var.get()
    if logged is not None:
        logged.update(str(citizen_id) for citizen_id in citizen_ids)


def access_log_record_each(
    *, actor: Actor, citizen: CitizenRef, resource_type: str, resource_ids: Iterable[str], action: str = Action.CREATE
) -> None:
    """One row for each of the citizen's resources written (a batch of session logs), in one query."""
    role = actor.audit_role
    purpose = purpose_of(role)
    citizen_id = _citizen_id(citizen)
    _insert(
        [
            AccessLogEntry(
                actor_id=actor.user.pk,
                actor_name=actor.user.display_name,
                actor_role=role,
                citizen_id=citizen_id,
                resource_type=resource_type,
                resource_id=resource_id,
                action=action,
                purpose=purpose,
                request_id=current_request_id(),
            )
            for resource_id in resource_ids
        ]
    )
    logged = logged_citizens_var.get()
    if logged is not None:
        logged.add(str(citizen_id))


def _insert(rows: list[AccessLogEntry]) -> None:
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        batch = rows[start : start + ROWS_PER_STATEMENT]
        params = [field.get_db_prep_save(field.pre_save(row, True), connection) for row in batch for field in _FIELDS]
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(len(batch)), params)


def read_logged(
    actor: Actor,
    citizens: Iterable[CitizenRef],
    resource_type: str,
    resource_id: object = "",
    *,
    purpose: str | None = None,
) -> None:
    """Log a read of the citizens' data before it leaves: one row per citizen per request, so a citizen
    this request has already logged (read or written) is not logged again. ``resource_id`` is kept when
    the read concerns one citizen."""
    logged = logged_citizens_var.get()
    unique = [
        citizen_id
        for citizen_id in dict.fromkeys(_citizen_id(citizen) for citizen in citizens)
        if logged is None or str(citizen_id) not in logged
    ]
    if not unique:
        return
    access_log_record(
        actor=actor,
        citizens=unique,
        resource_type=resource_type,
        action=Action.READ,
        resource_id=str(resource_id) if resource_id and len(unique) == 1 else "",
        purpose=purpose,
    )


ROWS_PER_STATEMENT = 500
# Statements kept for the row counts most requests have; a larger one is written again each time.
MAX_CACHED_ROW_COUNT = 64
_FIELDS = [field for field in AccessLogEntry._meta.concrete_fields if not field.primary_key]
_inserts: dict[tuple[str, int], str] = {}


def _insert_sql(count: int) -> str:
    key = (connection.vendor, count)
    statement = _inserts.get(key)
    if statement is None:
        columns = ", ".join(sql.column(AccessLogEntry, field.name) for field in _FIELDS)
        row = f"({sql.placeholders(len(_FIELDS))})"
        # Names from the model's metadata and placeholders only; every value is a parameter.
        statement = f"INSERT INTO {sql.table(AccessLogEntry)} ({columns}) VALUES " + ", ".join([row] * count)  # noqa: S608
        if count <= MAX_CACHED_ROW_COUNT:
            _inserts[key] = statement
    return statement
