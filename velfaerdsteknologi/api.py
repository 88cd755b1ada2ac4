"""The welfare-technology API: IT's device register, the devices' telemetry, and alerts for IT and care."""

from typing import Any
from uuid import UUID

import pydantic
from django.conf import settings
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Status
from ninja.errors import HttpError, ValidationError

from backend.actors import CARE, IT
from backend.auth import AuthedRequest, UserBearer
from backend.errors import Forbidden, InvalidInput, NotFound
from backend.parser import StrictJsonParser
from backend.timeutil import municipal_today
from velfaerdsteknologi import presenters, schemas, selectors
from velfaerdsteknologi.access import (
    access_alert,
    access_assignment,
    access_device,
    access_device_model,
    access_maintenance_task,
)
from velfaerdsteknologi.credentials import DeviceBearer, DeviceRequest
from velfaerdsteknologi.models import AlertRule, DeviceCategory, DeviceCredential, DeviceModel
from velfaerdsteknologi.services import alerts, assignments, catalogue, devices, maintenance, telemetry
from velfaerdsteknologi.transfer import devices_export, devices_import

device_router = Router(tags=["device"], auth=DeviceBearer())
telemetry_router = Router(tags=["telemetry"], auth=DeviceBearer())
catalogue_router = Router(tags=["device catalogue"], auth=UserBearer(roles=IT))
categories_router = Router(tags=["device catalogue"], auth=UserBearer(roles=IT))
devices_router = Router(tags=["devices"], auth=UserBearer(roles=IT))
assignments_router = Router(tags=["device assignments"], auth=UserBearer(roles=IT))
it_router = Router(tags=["IT"], auth=UserBearer(roles=IT))
alerts_router = Router(tags=["device alerts"], auth=UserBearer(roles=IT | CARE))


# --- The device itself ---------------------------------------------------------------------------


@device_router.get("/me", response=schemas.DeviceSelfOut, summary="The calling device, and the server's clock")
def device_me(request: DeviceRequest):
    return presenters.device_self_out(request.auth.device, timezone.now())


def _telemetry_in(request: HttpRequest) -> schemas.TelemetryFields | schemas.TelemetryIn:
    """A telemetry post's body: valid as sent, in one pass of pydantic's JSON parser
    (``schemas.telemetry_fields``); anything else as ninja reads every body of the API (the API's parser,
    then the declared ``TelemetryIn``), with its answer: 400 for a body that is not JSON, 422 naming each
    field that is not valid."""
    batch = schemas.telemetry_fields(request.body)
    if batch is not None:
        return batch
    if not request.body:
        raise ValidationError([{"type": "missing", "loc": ("body", "payload"), "msg": "Field required"}])
    try:
        data = StrictJsonParser().parse_body(request)
    except Exception as error:  # noqa: BLE001 — as ninja: whatever the parser refuses cannot be read
        raise HttpError(400, "Cannot parse request body" + (f" ({error})" if settings.DEBUG else "")) from error
    try:
        return schemas.TelemetryIn.model_validate(data)
    except pydantic.ValidationError as error:
        errors = []
        for item in error.errors(include_url=False):
            found: dict[str, Any] = {**item, "loc": ("body", "payload", *item["loc"])}
            del found["input"]
            if isinstance(found.get("ctx", {}).get("error"), Exception):
                found["ctx"] = {**found["ctx"], "error": str(found["ctx"]["error"])}
            errors.append(found)
        raise ValidationError(errors) from error


@telemetry_router.post(
    "",
    response=schemas.TelemetryOut,
    summary="A batch of up to 500 readings from the device",
    openapi_extra=schemas.TELEMETRY_IN_OPENAPI,
)
def post_telemetry(request: DeviceRequest):
    device, payload = request.auth.device, _telemetry_in(request)
    if payload.device_id is not None and payload.device_id != device.pk:
        raise Forbidden(
            "A device can post only its own readings.",
            code="not_this_device",
            errors=[{"field": "device_id", "message": "Not the calling device."}],
        )
    results = telemetry.telemetry_ingest(device=device, readings=payload.readings)
    # Rendered by the presenter rather than by the response schema: the shape is TelemetryOut's by
    # construction, and re-validating up to 500 results per batch costs more than storing them.
    return HttpResponse(presenters.telemetry_out(results), content_type="application/json; charset=utf-8")


# --- Catalogue ----------------------------------------------------------------------------------


@categories_router.get("", response=list[schemas.CategoryOut], summary="Device categories")
def list_categories(request: AuthedRequest):
    return list(DeviceCategory.objects.all())


@catalogue_router.get("", response=schemas.DeviceModelPageOut, summary="The device catalogue")
def list_device_models(request: AuthedRequest, query: Query[schemas.PageQuery]):
    items, next_cursor = selectors.device_models_page(cursor=query.cursor, limit=query.limit)
    return {"items": items, "next_cursor": next_cursor}


@catalogue_router.post("", response={201: schemas.DeviceModelOut}, summary="Add a model to the catalogue")
def create_device_model(request: AuthedRequest, payload: schemas.DeviceModelIn):
    category = DeviceCategory.objects.filter(code=payload.category).first()
    if category is None:
        raise InvalidInput("category", f"Unknown category {payload.category!r}.")
    if DeviceModel.objects.filter(manufacturer=payload.manufacturer, model_number=payload.model_number).exists():
        raise InvalidInput("model_number", "This manufacturer's model is already in the catalogue.", code="duplicate")
    try:
        device_model = alerts.device_model_create(**payload.dict(exclude={"category"}), category=category)
    except IntegrityError as exc:
        raise InvalidInput("model_number", "This model is already in the catalogue.", code="duplicate") from exc
    return Status(201, device_model)


@catalogue_router.get("/{uuid:model_id}", response=schemas.DeviceModelOut, summary="One catalogue model")
def get_device_model(request: AuthedRequest, model_id: UUID):
    return access_device_model(request.auth, model_id)


@catalogue_router.patch(
    "/{uuid:model_id}",
    response=schemas.DeviceModelOut,
    summary="Change a catalogue model's name and maintenance intervals",
    description=(
        "Sends only what changes. Manufacturer, model number, category and telemetry stay as added. A changed "
        "interval applies from each device's next task of that kind (open tasks keep their dates); a new interval "
        "gives every device of the model in service its first task of that kind, one interval from today; a "
        "removed interval (null) cancels the open tasks of that kind. Battery checks need a battery-powered model "
        "(422 on `battery_check_interval_days`)."
    ),
)
def change_device_model(request: AuthedRequest, model_id: UUID, payload: schemas.DeviceModelPatchIn):
    device_model = access_device_model(request.auth, model_id)
    return catalogue.device_model_change(
        device_model=device_model, changes=payload.dict(exclude_unset=True), today=municipal_today()
    )


@catalogue_router.get("/{uuid:model_id}/alert-rules", response=schemas.AlertRulesOut, summary="A model's alert rules")
def list_alert_rules(request: AuthedRequest, model_id: UUID):
    device_model = access_device_model(request.auth, model_id)
    return {"items": list(AlertRule.objects.filter(device_model=device_model))}


@catalogue_router.put(
    "/{uuid:model_id}/alert-rules/{kind}", response=schemas.AlertRuleOut, summary="Set a model's rule for one kind"
)
def set_alert_rule(request: AuthedRequest, model_id: UUID, kind: schemas.KindName, payload: schemas.AlertRuleIn):
    device_model = access_device_model(request.auth, model_id)
    return alerts.alert_rule_set(device_model=device_model, kind=kind, settings=payload.dict())


# --- Devices ------------------------------------------------------------------------------------


@devices_router.get("", response=schemas.DevicePageOut, summary="Devices of my municipality")
def list_devices(request: AuthedRequest, query: Query[schemas.DeviceFilter]):
    filters = query.dict(exclude={"cursor", "limit"})
    items, next_cursor = selectors.devices_page(request.auth, cursor=query.cursor, limit=query.limit, **filters)
    return {"items": items, "next_cursor": next_cursor}


@devices_router.post("", response={201: schemas.DeviceOut}, summary="Register a device (in stock)")
def register_device(request: AuthedRequest, payload: schemas.DeviceIn):
    actor = request.auth
    device_model = DeviceModel.objects.filter(pk=payload.model_id).first()
    if device_model is None:
        raise InvalidInput("model_id", "Unknown device model.")
    assert actor.staff is not None
    device = devices.device_register(
        municipality=actor.staff.municipality,
        device_model=device_model,
        by=actor.user,
        **payload.dict(exclude={"model_id"}),
    )
    return Status(201, device)


@devices_router.get("/export", summary="The devices as CSV (same filters as the list)")
def export_devices(request: AuthedRequest, query: Query[schemas.DeviceFilter]):
    filters = query.dict(exclude={"cursor", "limit"})
    response = HttpResponse(
        devices_export(selectors.devices_filtered(request.auth, **filters)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="devices.csv"'
    return response


@devices_router.post(
    "/import",
    response={200: schemas.ImportOut, 201: schemas.ImportOut},
    summary="Import devices from CSV: a dry run lists row errors; a real run is all or nothing",
)
def import_devices(request: AuthedRequest, payload: schemas.DeviceImportIn):
    actor = request.auth
    assert actor.staff is not None
    report = devices_import(
        municipality=actor.staff.municipality, by=actor.user, csv_text=payload.csv, dry_run=payload.dry_run
    )
    if report.errors and not report.dry_run:
        first = report.errors[0]
        raise InvalidInput(
            first["field"] or "csv", f"row {first['row']}: {first['message']}", code="import_failed"
        ) from None
    return Status(200 if report.dry_run else 201, report.__dict__)


@devices_router.get("/{uuid:device_id}", response=schemas.DeviceOut, summary="One device")
def get_device(request: AuthedRequest, device_id: UUID):
    return access_device(request.auth, device_id)


@devices_router.patch("/{uuid:device_id}", response=schemas.DeviceOut, summary="Change a device's details")
def update_device(request: AuthedRequest, device_id: UUID, payload: schemas.DevicePatchIn):
    device = access_device(request.auth, device_id)
    return devices.device_update(device=device, changes=payload.dict(exclude_unset=True))


@devices_router.post(
    "/{uuid:device_id}/transitions", response=schemas.DeviceOut, summary="Move a device in its lifecycle"
)
def transition_device(request: AuthedRequest, device_id: UUID, payload: schemas.TransitionIn):
    device = access_device(request.auth, device_id)
    return devices.device_transition(
        device=device, to_status=payload.to_status, by=request.auth.user, reason=payload.reason
    )


@devices_router.get("/{uuid:device_id}/transitions", response=schemas.TransitionsOut, summary="A device's history")
def list_transitions(request: AuthedRequest, device_id: UUID, query: Query[schemas.PageQuery]):
    device = access_device(request.auth, device_id)
    items, next_cursor = selectors.device_transitions_page(device, cursor=query.cursor, limit=query.limit)
    return {"items": [presenters.transition_out(item) for item in items], "next_cursor": next_cursor}


@devices_router.get("/{uuid:device_id}/credentials", response=schemas.CredentialsOut, summary="A device's credentials")
def list_credentials(request: AuthedRequest, device_id: UUID):
    device = access_device(request.auth, device_id)
    return {"items": list(DeviceCredential.objects.filter(device=device)[:100])}


@devices_router.post(
    "/{uuid:device_id}/credentials",
    response={201: schemas.IssuedCredentialOut},
    summary="Issue or rotate the device's token (shown once; earlier tokens stop working)",
)
def issue_credential(request: AuthedRequest, device_id: UUID):
    device = access_device(request.auth, device_id)
    credential, token = devices.device_credential_rotate(device=device, by=request.auth.user)
    return Status(201, presenters.issued_credential_out(credential, token))


@devices_router.delete(
    "/{uuid:device_id}/credentials/{uuid:credential_id}",
    response=schemas.CredentialOut,
    summary="Revoke one of the device's tokens",
)
def revoke_credential(request: AuthedRequest, device_id: UUID, credential_id: UUID):
    device = access_device(request.auth, device_id)
    credential = DeviceCredential.objects.filter(device=device, pk=credential_id).first()
    if credential is None:
        raise NotFound("No such credential.")
    return devices.device_credential_revoke(credential=credential)


# --- Assignments --------------------------------------------------------------------------------


@assignments_router.get("", response=schemas.AssignmentPageOut, summary="Assignments of my municipality's devices")
def list_assignments(request: AuthedRequest, query: Query[schemas.AssignmentFilter]):
    filters = query.dict(exclude={"cursor", "limit"})
    items, next_cursor = selectors.assignments_page(request.auth, cursor=query.cursor, limit=query.limit, **filters)
    return {"items": items, "next_cursor": next_cursor}


@assignments_router.post("", response={201: schemas.AssignmentOut}, summary="Assign a device in stock to a citizen")
def create_assignment(request: AuthedRequest, payload: schemas.AssignmentIn):
    device = access_device(request.auth, payload.device_id)
    citizen = selectors.citizen_for_it(request.auth, payload.citizen_id)
    assignment = assignments.device_assign(
        device=device, citizen=citizen, by=request.auth, **payload.dict(exclude={"device_id", "citizen_id"})
    )
    return Status(201, assignment)


@assignments_router.get("/{uuid:assignment_id}", response=schemas.AssignmentOut, summary="One assignment")
def get_assignment(request: AuthedRequest, assignment_id: UUID):
    actor = request.auth
    return selectors.assignment_detail(actor, access_assignment(actor, assignment_id))


@assignments_router.post(
    "/{uuid:assignment_id}/install", response=schemas.AssignmentOut, summary="Record the installation"
)
def install_assignment(request: AuthedRequest, assignment_id: UUID, payload: schemas.WhenIn):
    assignment = access_assignment(request.auth, assignment_id)
    return assignments.assignment_install(assignment=assignment, by=request.auth, installed_at=payload.at)


@assignments_router.post(
    "/{uuid:assignment_id}/return",
    response=schemas.AssignmentOut,
    summary="Record the return (or cancel a reservation)",
)
def return_assignment(request: AuthedRequest, assignment_id: UUID, payload: schemas.WhenIn):
    assignment = access_assignment(request.auth, assignment_id)
    return assignments.assignment_return(assignment=assignment, by=request.auth, returned_at=payload.at)


@assignments_router.post(
    "/{uuid:assignment_id}/consent",
    response=schemas.AssignmentOut,
    summary="Record or renew the consent or legal basis and its review date",
)
def record_consent(request: AuthedRequest, assignment_id: UUID, payload: schemas.ConsentIn):
    assignment = access_assignment(request.auth, assignment_id)
    return assignments.assignment_consent_record(assignment=assignment, by=request.auth, **payload.dict())


# --- IT's work lists ----------------------------------------------------------------------------


@it_router.get("/board", response=schemas.BoardOut, summary="Device health: offline, battery, maintenance, returns")
def board(request: AuthedRequest):
    return presenters.health_board_out(selectors.health_board(request.auth))


@it_router.get("/maintenance", response=schemas.MaintenancePageOut, summary="Maintenance due, overdue first")
def list_maintenance(request: AuthedRequest, query: Query[schemas.MaintenanceFilter]):
    filters = query.dict(exclude={"cursor", "limit"})
    items, next_cursor = selectors.maintenance_due_page(request.auth, cursor=query.cursor, limit=query.limit, **filters)
    today = municipal_today()
    return {"items": [presenters.maintenance_out(item, today) for item in items], "next_cursor": next_cursor}


@it_router.post(
    "/maintenance/{uuid:task_id}/complete",
    response=schemas.MaintenanceOut,
    summary="Record a maintenance result; the next one is scheduled",
)
def complete_maintenance(request: AuthedRequest, task_id: UUID, payload: schemas.MaintenanceResultIn):
    task = access_maintenance_task(request.auth, task_id)
    done = maintenance.maintenance_complete(task=task, by=request.auth.user, **payload.dict())
    return presenters.maintenance_out(done)


@it_router.get("/return-tasks", response=schemas.ReturnTaskPageOut, summary="Devices to fetch back")
def list_return_tasks(request: AuthedRequest, query: Query[schemas.PageQuery]):
    items, next_cursor = selectors.return_tasks_page(request.auth, cursor=query.cursor, limit=query.limit)
    return {"items": [presenters.return_task_out(item) for item in items], "next_cursor": next_cursor}


@it_router.post(
    "/citizens/lookup",
    response=schemas.CitizenContactOut,
    summary="Find a citizen of the municipality by CPR for an installation (name, address, phone)",
)
def lookup_citizen(request: AuthedRequest, payload: schemas.CitizenLookupIn):
    return selectors.citizen_contact_by_cpr(request.auth, payload.cpr)


# --- Alerts -------------------------------------------------------------------------------------


@alerts_router.get("", response=schemas.AlertPageOut, summary="Alerts for me: device alerts (IT), health alerts (care)")
def list_alerts(request: AuthedRequest, query: Query[schemas.AlertFilter]):
    items, next_cursor = selectors.alerts_page(
        request.auth, cursor=query.cursor, limit=query.limit, status=query.status, kind=query.kind
    )
    return {"items": [presenters.alert_out(item) for item in items], "next_cursor": next_cursor}


@alerts_router.get("/{uuid:alert_id}", response=schemas.AlertOut, summary="One alert")
def get_alert(request: AuthedRequest, alert_id: UUID):
    actor = request.auth
    return presenters.alert_out(selectors.alert_detail(actor, access_alert(actor, alert_id)))


@alerts_router.post("/{uuid:alert_id}/acknowledge", response=schemas.AlertOut, summary="Acknowledge an alert")
def acknowledge_alert(request: AuthedRequest, alert_id: UUID):
    actor = request.auth
    alert = alerts.alert_acknowledge(alert=access_alert(actor, alert_id), by=actor)
    return presenters.alert_out(alert)


@alerts_router.post("/{uuid:alert_id}/resolve", response=schemas.AlertOut, summary="Resolve an alert")
def resolve_alert(request: AuthedRequest, alert_id: UUID):
    actor = request.auth
    alert = alerts.alert_resolve(alert=access_alert(actor, alert_id), by=actor)
    return presenters.alert_out(alert)


ROUTERS = [
    ("/device", device_router),
    ("/telemetry", telemetry_router),
    ("/device-categories", categories_router),
    ("/device-models", catalogue_router),
    ("/devices", devices_router),
    ("/device-assignments", assignments_router),
    ("/device-alerts", alerts_router),
    ("/it", it_router),
]
