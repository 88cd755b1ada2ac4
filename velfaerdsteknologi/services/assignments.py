"""Placing devices with citizens, installing them, taking them back, and noticing when they must come back."""

from datetime import date, datetime
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from backend import care_links
from backend.actors import Actor
from backend.audit import access_log_record
from backend.errors import Conflict, InvalidInput
from backend.models import AccessLogEntry, Citizen
from backend.timeutil import municipal_today
from velfaerdsteknologi.models import Assignment, ConsentBasis, Device, DeviceStatus, ReturnTask
from velfaerdsteknologi.services.alerts import alerts_resolve_on_return
from velfaerdsteknologi.services.devices import _move, device_locked
from velfaerdsteknologi.services.maintenance import maintenance_schedule, maintenance_test_calls_cancel

Action = AccessLogEntry.Action
RESOURCE = "device_assignment"


def citizen_address(citizen: Citizen) -> str:
    return ", ".join(part for part in (citizen.address_line, f"{citizen.postcode} {citizen.city}".strip()) if part)


def _check_consent(*, device: Device, basis: str, review_on: date | None, today: date) -> None:
    if not device.model.is_surveillance:
        return
    if basis not in ConsentBasis.values:
        raise InvalidInput(
            "consent_basis",
            "A surveillance-type device needs a recorded consent or legal basis before it is assigned.",
            code="consent_required",
        )
    if review_on is None:
        raise InvalidInput(
            "consent_review_on", "A surveillance-type device needs a review date.", code="consent_required"
        )
    if review_on <= today:
        raise InvalidInput("consent_review_on", "The review date must lie in the future.")


@transaction.atomic
def device_assign(
    *,
    device: Device,
    citizen: Citizen,
    by: Actor,
    installation_address: str = "",
    planned_install_on: date | None = None,
    planned_return_on: date | None = None,
    episode_id: UUID | None = None,
    goal_id: UUID | None = None,
    consent_basis: str = "",
    consent_reference: str = "",
    consent_review_on: date | None = None,
) -> Assignment:
    """Reserve a device in stock for a citizen. A surveillance-type device needs a consent or legal basis and a
    review date; an episode and goal it serves must be the citizen's own and running; a device has at most one
    active assignment (a database constraint backs the check)."""
    today = municipal_today()
    if citizen.deceased_on is not None:
        raise InvalidInput("citizen_id", "The citizen is registered as deceased.")
    if planned_return_on and planned_install_on and planned_return_on < planned_install_on:
        raise InvalidInput("planned_return_on", "The return cannot be planned before the installation.")
    care_links.episode_and_goal_check(citizen_id=citizen.pk, episode_id=episode_id, goal_id=goal_id)
    device = device_locked(device)
    _check_consent(device=device, basis=consent_basis, review_on=consent_review_on, today=today)
    if device.status != DeviceStatus.IN_STOCK:
        raise Conflict(
            f"Only a device in stock can be assigned; this one is {device.status}.", code="device_not_in_stock"
        )
    home = citizen_address(citizen)
    if not (installation_address or home):
        raise InvalidInput("installation_address", "The citizen has no address on record; give one.")
    now = timezone.now()
    try:
        with transaction.atomic():
            assignment = Assignment.objects.create(
                device=device,
                citizen=citizen,
                episode_id=episode_id,
                goal_id=goal_id,
                installation_address=installation_address or home,
                citizen_address_at_assignment=home,
                planned_install_on=planned_install_on,
                planned_return_on=planned_return_on,
                consent_basis=consent_basis,
                consent_reference=consent_reference,
                consent_review_on=consent_review_on,
                consent_recorded_at=now if consent_basis else None,
                consent_recorded_by=by.user if consent_basis else None,
                created_by=by.user,
            )
    except IntegrityError as exc:
        raise Conflict("The device already has an active assignment.", code="device_already_assigned") from exc
    _move(device=device, to_status=DeviceStatus.RESERVED, by=by.user, reason=f"Tildelt {assignment.pk}")
    access_log_record(
        actor=by, citizens=[citizen], resource_type=RESOURCE, action=Action.CREATE, resource_id=str(assignment.pk)
    )
    return assignment


def _locked(assignment: Assignment) -> Assignment:
    return Assignment.objects.select_for_update().select_related("citizen").get(pk=assignment.pk)


@transaction.atomic
def assignment_install(*, assignment: Assignment, by: Actor, installed_at: datetime | None = None) -> Assignment:
    """The device is installed at the citizen's: it is now in use there, and its maintenance (a test call
    cancelled at an earlier return among it) is scheduled again."""
    locked = _locked(assignment)
    if locked.returned_at is not None or locked.installed_at is not None:
        raise Conflict("The assignment is not waiting for installation.", code="assignment_not_pending")
    now = timezone.now()
    if installed_at and installed_at > now:
        raise InvalidInput("installed_at", "The installation cannot lie in the future.")
    device = device_locked(locked.device)
    _move(device=device, to_status=DeviceStatus.IN_USE, by=by.user, reason="Installeret")
    Device.objects.filter(pk=device.pk).update(location=locked.installation_address)
    maintenance_schedule(device=device, today=municipal_today())
    locked.installed_at = installed_at or now
    locked.installed_by = by.user
    locked.save(update_fields=["installed_at", "installed_by"])
    access_log_record(
        actor=by, citizens=[locked.citizen], resource_type=RESOURCE, action=Action.UPDATE, resource_id=str(locked.pk)
    )
    return locked


@transaction.atomic
def assignment_return(*, assignment: Assignment, by: Actor, returned_at: datetime | None = None) -> Assignment:
    """The device is taken back (or a reservation cancelled); open return tasks for it are done, its open
    alerts are resolved by the system, so the next citizen starts with none, and a device taken back has no
    test call due."""
    locked = _locked(assignment)
    if locked.returned_at is not None:
        raise Conflict("The device has already been returned.", code="assignment_ended")
    now = timezone.now()
    if returned_at and returned_at > now:
        raise InvalidInput("returned_at", "The return cannot lie in the future.")
    device = device_locked(locked.device)
    if device.status == DeviceStatus.RESERVED:
        _move(device=device, to_status=DeviceStatus.IN_STOCK, by=by.user, reason="Reservation annulleret")
    else:
        _move(device=device, to_status=DeviceStatus.RETURNED, by=by.user, reason="Hentet retur")
        maintenance_test_calls_cancel(device=device)
    Device.objects.filter(pk=device.pk).update(location="")
    locked.returned_at = returned_at or now
    locked.returned_by = by.user
    locked.save(update_fields=["returned_at", "returned_by"])
    ReturnTask.objects.filter(assignment=locked, completed_at__isnull=True).update(completed_at=now)
    alerts_resolve_on_return(device=device)
    access_log_record(
        actor=by, citizens=[locked.citizen], resource_type=RESOURCE, action=Action.UPDATE, resource_id=str(locked.pk)
    )
    return locked


@transaction.atomic
def assignment_consent_record(
    *, assignment: Assignment, by: Actor, basis: str, reference: str, review_on: date
) -> Assignment:
    """Record (or renew) the consent or legal basis of an assignment, with its next review date."""
    locked = _locked(assignment)
    if locked.returned_at is not None:
        raise Conflict("The assignment has ended.", code="assignment_ended")
    if review_on <= municipal_today():
        raise InvalidInput("review_on", "The review date must lie in the future.")
    locked.consent_basis = basis
    locked.consent_reference = reference
    locked.consent_review_on = review_on
    locked.consent_recorded_at = timezone.now()
    locked.consent_recorded_by = by.user
    locked.save(
        update_fields=[
            "consent_basis",
            "consent_reference",
            "consent_review_on",
            "consent_recorded_at",
            "consent_recorded_by",
        ]
    )
    access_log_record(
        actor=by, citizens=[locked.citizen], resource_type=RESOURCE, action=Action.UPDATE, resource_id=str(locked.pk)
    )
    return locked


def _open_return_tasks(pairs: list[tuple[Assignment, str]]) -> int:
    created = ReturnTask.objects.bulk_create(
        [ReturnTask(assignment=assignment, reason=reason) for assignment, reason in pairs], ignore_conflicts=True
    )
    return len(created)


def return_tasks_detect() -> int:
    """Open a return task for every active assignment whose citizen has died or moved away from the address
    the device was assigned at. Safe to run any number of times (one open task per assignment)."""
    pairs: list[tuple[Assignment, str]] = []
    active = (
        Assignment.objects.filter(returned_at__isnull=True)
        .exclude(pk__in=ReturnTask.objects.filter(completed_at__isnull=True).values("assignment_id"))
        .select_related("citizen")
    )
    for assignment in active.iterator(chunk_size=500):
        if assignment.citizen.deceased_on is not None:
            pairs.append((assignment, ReturnTask.Reason.CITIZEN_DIED))
        elif citizen_address(assignment.citizen) != assignment.citizen_address_at_assignment:
            pairs.append((assignment, ReturnTask.Reason.CITIZEN_MOVED))
    return _open_return_tasks(pairs)


def assignments_episode_ended(*, episode_id: UUID, citizen_id: UUID | None = None) -> int:
    """An episode ended (registered with ``backend.care_events``): every device serving it gets a return task."""
    active = Assignment.objects.filter(episode_id=episode_id, returned_at__isnull=True)
    if citizen_id is not None:
        active = active.filter(citizen_id=citizen_id)  # only the episode's own citizen's devices
    return _open_return_tasks([(assignment, ReturnTask.Reason.EPISODE_ENDED) for assignment in active])
