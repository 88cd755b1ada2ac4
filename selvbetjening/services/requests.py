"""Citizens' requests to their contact person: writing, photos, replies and status."""

from datetime import date, datetime, time, timedelta
from functools import partial
from uuid import UUID
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from backend.access import active_care_relation_filter
from backend.actors import Actor
from backend.audit import access_log_record
from backend.client_ids import create_once
from backend.errors import Conflict, InvalidInput
from backend.images import image_process
from backend.models import AccessLogEntry, CareRelation, Citizen, Team
from selvbetjening import events
from selvbetjening.models import CitizenRequest, Episode, RequestMessage
from selvbetjening.rules import requests as request_rules
from selvbetjening.services.common import rater_role

Action = AccessLogEntry.Action
Status = CitizenRequest.Status
DEFAULT_RESPONSE_WORKING_DAYS = 2
RUNNING = (Episode.Status.PLANNED, Episode.Status.ACTIVE, Episode.Status.ON_HOLD)

STAFF_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.OPEN: frozenset({Status.IN_PROGRESS, Status.CLOSED}),
    Status.IN_PROGRESS: frozenset({Status.OPEN, Status.CLOSED}),
    Status.ANSWERED: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days (Monday–Friday) after ``start``."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def response_deadline(*, sent_at: datetime, working_days: int, time_zone: str) -> datetime:
    """The end of the ``working_days``-th working day after the request was sent, in the citizen's zone."""
    zone = ZoneInfo(time_zone)
    local_day = sent_at.astimezone(zone).date()
    last_day = add_working_days(local_day, working_days)
    return datetime.combine(last_day, time(23, 59, 59), tzinfo=zone).astimezone(ZoneInfo("UTC"))


def _log(actor: Actor, request: CitizenRequest, action: str) -> None:
    access_log_record(
        actor=actor,
        citizens=[request.citizen],
        resource_type="request",
        action=action,
        resource_id=str(request.pk),
    )


def _recipient(citizen: Citizen, episode_id: UUID | None) -> tuple[Episode | None, Team]:
    """The episode the request is about and the team that answers it."""
    if episode_id is not None:
        episode = Episode.objects.filter(pk=episode_id, citizen=citizen, status__in=RUNNING).first()
        if episode is None:
            raise InvalidInput("episode_id", "is not one of your running courses.")
        return episode, episode.team
    episode = (
        Episode.objects.filter(citizen=citizen, status__in=RUNNING)
        .select_related("team")
        .order_by("-start_date")
        .first()
    )
    if episode is not None:
        return episode, episode.team
    relation = (
        CareRelation.objects.filter(active_care_relation_filter(prefix=""), citizen=citizen)
        .select_related("team")
        .first()
    )
    if relation is None:
        raise InvalidInput("episode_id", "you have no course or care team to write to.")
    return None, relation.team


@transaction.atomic
def request_create(
    *, by: Actor, citizen: Citizen, category: str, text: str, episode_id: UUID | None, request_id: UUID | None
) -> tuple[CitizenRequest, bool]:
    """A request to the contact person of the citizen's running episode (or their care team), with
    the deadline for an answer. A retry with the same ``request_id`` and the same content returns the first
    (``backend.client_ids``); the id with other content is 422 ``id_reused``."""

    def create() -> CitizenRequest:
        episode, team = _recipient(citizen, episode_id)
        working_days = episode.response_working_days if episode else DEFAULT_RESPONSE_WORKING_DAYS
        now = timezone.now()
        return CitizenRequest.objects.create(
            id=request_id or None,
            citizen=citizen,
            episode=episode,
            team=team,
            category=category,
            text=text,
            respond_by=response_deadline(sent_at=now, working_days=working_days, time_zone=citizen.time_zone),
            created_by=by.user,
            created_by_role=rater_role(by),
        )

    def is_same(existing: CitizenRequest) -> bool:
        return (
            existing.citizen_id == citizen.pk
            and existing.created_by_id == by.user.pk
            and existing.category == category
            and existing.text == text
            and (episode_id is None or existing.episode_id == episode_id)
        )

    if request_id is None:
        request, created = create(), True
    else:
        request, created = create_once(
            find=lambda: CitizenRequest.objects.filter(pk=request_id).first(),
            is_same=is_same,
            create=create,
            what="request",
        )
    if not created:
        return request, False  # the caller shows it through ``access_request``, which logs the read
    _log(by, request, Action.CREATE)
    transaction.on_commit(lambda: events.request_created(request_id=request.pk, team_id=request.team_id))
    return request, True


@transaction.atomic
def request_photo_attach(*, request: CitizenRequest, by: Actor, data: bytes) -> CitizenRequest:
    """Attach a photo, checked and re-encoded without metadata, with a thumbnail; replaces an earlier one."""
    if request.status == Status.CLOSED:
        raise Conflict("The request is closed.", code="request_closed")
    image = image_process(data, field="photo")
    old = [request.photo.name, request.photo_thumbnail.name]
    request.photo.save(f"{request.pk}.jpg", ContentFile(image.content), save=False)
    request.photo_thumbnail.save(f"{request.pk}-thumbnail.jpg", ContentFile(image.thumbnail), save=False)
    request.save(update_fields=["photo", "photo_thumbnail", "updated_at"])
    storage = request.photo.storage
    for name in old:
        if name:
            transaction.on_commit(partial(storage.delete, name))
    _log(by, request, Action.UPDATE)
    return request


@transaction.atomic
def request_message_add(*, request: CitizenRequest, by: Actor, text: str) -> RequestMessage:
    """A message in the thread. Staff replying marks the request answered (and the citizen is told);
    the citizen writing again reopens an answered request with a new deadline."""
    locked = (
        CitizenRequest.objects.select_for_update(of=("self",)).select_related("citizen", "episode").get(pk=request.pk)
    )
    if locked.status == Status.CLOSED:
        raise Conflict("The request is closed.", code="request_closed")
    role = rater_role(by)
    message = RequestMessage.objects.create(
        request=locked, author=by.user, author_name=by.user.display_name, author_role=role, text=text
    )
    now = timezone.now()
    if role == "staff":
        locked.status = Status.ANSWERED
        locked.answered_at = now
        transaction.on_commit(lambda: events.request_answered(request_id=locked.pk, citizen_id=locked.citizen_id))
    elif locked.status == Status.ANSWERED:
        working_days = locked.episode.response_working_days if locked.episode else DEFAULT_RESPONSE_WORKING_DAYS
        locked.status = Status.OPEN
        locked.respond_by = response_deadline(
            sent_at=now, working_days=working_days, time_zone=locked.citizen.time_zone
        )
        locked.overdue_notified_at = None
    locked.version += 1
    locked.save(update_fields=["status", "answered_at", "respond_by", "overdue_notified_at", "version", "updated_at"])
    _log(by, locked, Action.UPDATE)
    return message


@transaction.atomic
def request_status_set(*, request: CitizenRequest, by: Actor, status: str) -> CitizenRequest:
    """Staff move a request to in progress or close it; a citizen may only close their own."""
    locked = CitizenRequest.objects.select_for_update(of=("self",)).select_related("citizen").get(pk=request.pk)
    allowed = (
        STAFF_TRANSITIONS[locked.status]
        if rater_role(by) == "staff"
        else (frozenset({Status.CLOSED}) if locked.status != Status.CLOSED else frozenset())
    )
    if status not in allowed:
        raise Conflict(f"A request cannot go from {locked.status} to {status}.", code="illegal_transition")
    locked.status = status
    if status == Status.CLOSED:
        locked.closed_at = timezone.now()
    locked.version += 1
    locked.save(update_fields=["status", "closed_at", "version", "updated_at"])
    _log(by, locked, Action.UPDATE)
    return locked


def requests_overdue_notify(*, now: datetime | None = None) -> int:
    """Emit ``request_overdue`` once for each overdue request (``rules.requests``: waiting for the team past
    its deadline).

    The entry point a periodic task calls; safe to run twice.
    """
    now = now or timezone.now()
    overdue = CitizenRequest.objects.filter(request_rules.overdue_q(now), overdue_notified_at__isnull=True).values_list(
        "pk", "team_id"
    )
    count = 0
    for request_id, team_id in overdue:
        with transaction.atomic():
            if CitizenRequest.objects.filter(pk=request_id, overdue_notified_at__isnull=True).update(
                overdue_notified_at=now
            ):
                # In the claiming transaction: the notice is stored with the claim or not at all.
                events.request_overdue(request_id=request_id, team_id=team_id)
                count += 1
    return count
