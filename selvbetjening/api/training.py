"""The citizen's phone: logging sessions (one at a time or an offline batch), today's training and sync;
and relatives with the logging grant logging on the citizen's behalf."""

from typing import Any
from uuid import UUID

from ninja import Query, Router, Status
from pydantic import ValidationError

from backend.access import paginate_logged
from backend.auth import AuthedRequest
from backend.errors import ApplicationError
from backend.models import Citizen
from selvbetjening.access import network as network_access
from selvbetjening.access import sessions as session_access
from selvbetjening.api.auth import citizen_auth, relative_auth
from selvbetjening.presenters import care as present
from selvbetjening.presenters import sessions as present_sessions
from selvbetjening.schemas import training as schemas
from selvbetjening.selectors import network as network_reads
from selvbetjening.selectors import sessions as session_reads
from selvbetjening.selectors.sync import own_sync
from selvbetjening.selectors.today import own_today, today_for_citizen
from selvbetjening.services import session_batches
from selvbetjening.services import sessions as session_services
from selvbetjening.services.session_batches import SessionUpload

CITIZEN_ONLY = citizen_auth()
session_logs = Router(tags=["me: training"], auth=CITIZEN_ONLY)
training = Router(tags=["me: training"], auth=CITIZEN_ONLY)
relative = Router(tags=["relative"], auth=relative_auth())


def _own(request: AuthedRequest) -> Citizen:
    citizen = request.auth.citizen
    assert citizen is not None
    return citizen


def _record(request: AuthedRequest, citizen: Citizen, payload: schemas.SessionLogIn) -> tuple[int, dict[str, Any]]:
    """One upload: the status the phone gets (201 made, 200 a retry) and the log as stored."""
    plan = session_reads.plan_for_logging(citizen, payload.training_plan_id)
    log, created = session_services.session_log_record(
        plan=plan,
        by=request.auth,
        session_log_id=payload.id,
        exercises=[item.model_dump() for item in payload.exercises],
        **payload.model_dump(exclude={"id", "training_plan_id", "exercises"}),
    )
    return (201 if created else 200), present_sessions.session_log(session_reads.session_log_shaped(log.pk))


def _problem(status: int, code: str, title: str, detail: str, errors: Any = None) -> dict[str, Any]:
    return {
        "type": f"https://mestring.dk/problems/{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
        "errors": errors,
    }


def _item_id(raw: Any) -> UUID | None:
    try:
        return UUID(str(raw.get("id"))) if isinstance(raw, dict) else None
    except ValueError:
        return None


def _validated(raw: Any) -> schemas.SessionLogIn | dict[str, Any]:
    """An item as the schema reads it, or its validation problem."""
    try:
        return schemas.SessionLogIn.model_validate(raw)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(part) for part in error["loc"]) or "body", "message": error["msg"]}
            for error in exc.errors()
        ]
        detail = f"{errors[0]['field']}: {errors[0]['message']}" if errors else "Invalid value."
        return _problem(422, "validation_failed", "The request contains invalid data.", detail, errors)


def _upload(payload: schemas.SessionLogIn) -> SessionUpload:
    return SessionUpload(
        session_log_id=payload.id,
        exercises=[item.model_dump() for item in payload.exercises],
        **payload.model_dump(exclude={"id", "exercises"}),
    )


def _batch(request: AuthedRequest, citizen: Citizen, items: list[Any]) -> list[dict[str, Any]]:
    """Every item validated, the valid ones stored together; each answered on its own, in order."""
    validated = [_validated(raw) for raw in items]
    payloads = [(index, item) for index, item in enumerate(validated) if isinstance(item, schemas.SessionLogIn)]
    outcomes = session_batches.session_logs_record_batch(
        citizen=citizen, by=request.auth, uploads=[_upload(payload) for _, payload in payloads]
    )
    stored_ids = [outcome[0].pk for outcome in outcomes if isinstance(outcome, tuple)]
    shaped = session_reads.session_logs_shaped(stored_ids)
    results: list[dict[str, Any]] = [
        {"id": _item_id(raw), "status": "error", "http_status": 422, "problem": problem}
        for raw, problem in zip(items, validated, strict=True)
    ]
    for (index, _), outcome in zip(payloads, outcomes, strict=True):
        if isinstance(outcome, ApplicationError):
            problem = _problem(outcome.status, outcome.code, outcome.title, outcome.detail, outcome.extra.get("errors"))
            results[index]["http_status"], results[index]["problem"] = outcome.status, problem
            continue
        log, created = outcome
        results[index] = {
            "id": log.pk,
            "status": "created" if created else "unchanged",
            "http_status": 201 if created else 200,
            "session_log": present_sessions.session_log(shaped[log.pk]),
        }
    return results


# --- Session logs --------------------------------------------------------------------------------


@session_logs.post(
    "",
    response={201: schemas.SessionLogOut, 200: schemas.SessionLogOut},
    summary="Log a training session (201; a retry with the same id and content answers 200)",
)
def record_session(request: AuthedRequest, payload: schemas.SessionLogIn):
    return Status(*_record(request, _own(request), payload))


@session_logs.post(
    "/batch",
    response=schemas.SessionBatchOut,
    summary="Upload sessions logged offline: each stored or refused on its own, results in order",
    description=(
        "Up to 100 sessions, each answered as it would be alone (`created` 201, `unchanged` 200 for an id "
        "already stored with the same content, or its problem), in the order sent. Send the queue again as "
        "often as needed, from any of the citizen's phones, also while an earlier upload still runs: each "
        "id is stored once. An id stored with other content is 422 `id_reused`; a slot filled by a session "
        "with another id is 409 `slot_already_filled`."
    ),
)
def record_sessions(request: AuthedRequest, payload: schemas.SessionBatchIn):
    return {"results": _batch(request, _own(request), payload.items)}


@session_logs.get("", response=schemas.SessionLogPageOut, summary="My logged sessions, newest first")
def my_sessions(request: AuthedRequest, query: Query[schemas.SessionLogQuery]):
    queryset = session_reads.session_logs_visible_to(request.auth).filter(citizen=_own(request))
    if query.training_plan_id is not None:
        queryset = queryset.filter(plan_id=query.training_plan_id)
    items, next_cursor = paginate_logged(
        request.auth,
        session_reads.with_session_log_shape(queryset),
        reads="session_log",
        citizen_of=lambda log: log.citizen_id,
        cursor=query.cursor,
        limit=query.limit,
        order=("-performed_at", "-id"),
    )
    return {"items": [present_sessions.session_log(item) for item in items], "next_cursor": next_cursor}


@session_logs.get("/{uuid:session_log_id}", response=schemas.SessionLogOut, summary="One of my sessions")
def my_session(request: AuthedRequest, session_log_id: UUID):
    return present_sessions.session_log(session_access.access_session_log(request.auth, session_log_id))


@session_logs.patch(
    "/{uuid:session_log_id}",
    response=schemas.SessionLogOut,
    summary="Correct pain, effort, note or exercises of a session (409 when the version is stale)",
)
def correct_session(request: AuthedRequest, session_log_id: UUID, payload: schemas.SessionLogUpdateIn):
    log = session_access.access_session_log_for_change(request.auth, session_log_id)
    session_services.session_log_update(
        session_log=log, by=request.auth, version=payload.version, changes=payload.changes()
    )
    return present_sessions.session_log(session_reads.session_log_shaped(log.pk))


# --- Today and sync ------------------------------------------------------------------------------


@training.get("/today", response=schemas.TodayOut, summary="Today's training: slots, exercises, next reminder")
def today(request: AuthedRequest, query: Query[schemas.TodayQuery]):
    return own_today(request.auth, query.date)


SYNC_DESCRIPTION = """\
A **walk** brings the phone up to date: the first call without a cursor (everything current) or with the
`cursor` of the last finished walk; while `has_more` is true, call again at once with the `cursor` given.
Plans, exercises and goals come whole with the first answer of a walk, slots and session logs at most
`limit` of each per answer. Upsert every item by its `id` (it carries `version`/`updated_at`): an item may
come twice, and that is harmless.

**What a finished walk guarantees** (the answer with `has_more: false`): the phone then holds every change
committed before the walk's first answer, and its `cursor` starts the next walk at that instant. A change
made while the walk went on (the other phone's upload, the therapist pausing the plan or correcting a dose)
may be in it or not; it comes with the next walk. Nothing is lost. So sync once more right after a walk
that took long (was interrupted and resumed later, or spanned more than a few seconds) and after uploading
the offline queue; a walk may be resumed from its last `cursor` at any later time.
"""


@training.get(
    "/sync",
    response=schemas.SyncOut,
    summary="What changed since my phone's last sync",
    description=SYNC_DESCRIPTION,
)
def sync(request: AuthedRequest, query: Query[schemas.SyncQuery]):
    page = own_sync(request.auth, query.cursor, limit=query.limit)
    return {
        **vars(page),
        "goals": [present.goal(goal) for goal in page.goals],
        "session_logs": [present_sessions.session_log(log) for log in page.session_logs],
    }


# --- Relatives -----------------------------------------------------------------------------------


@relative.get(
    "/citizens/{uuid:citizen_id}/today",
    response=schemas.TodayOut,
    summary="The citizen's training of a day, to log a session from (log sessions)",
)
def citizen_today_for_relative(request: AuthedRequest, citizen_id: UUID, query: Query[schemas.TodayQuery]):
    citizen = network_access.access_citizen_for_relative(
        request.auth, citizen_id, network_reads.LOG_SESSIONS, reads="training"
    )
    return today_for_citizen(citizen, query.date)


@relative.post(
    "/citizens/{uuid:citizen_id}/session-logs",
    response={201: schemas.SessionLogOut, 200: schemas.SessionLogOut},
    summary="Log a session on the citizen's behalf (log sessions); marked as mine",
)
def record_session_for_citizen(request: AuthedRequest, citizen_id: UUID, payload: schemas.SessionLogIn):
    citizen = network_access.access_citizen_for_relative_change(request.auth, citizen_id, network_reads.LOG_SESSIONS)
    return Status(*_record(request, citizen, payload))


ROUTERS: list[tuple[str, Router]] = [
    ("/me/session-logs", session_logs),
    ("/me", training),
    ("/relative", relative),
]
