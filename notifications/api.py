"""The notifications API: each person's own inbox and the app installs that receive their pushes."""

from uuid import UUID

from ninja import Query, Router, Status

from backend.auth import AuthedRequest, UserBearer, person_auth
from notifications import access, presenters, reminders, schemas, selectors, services

inbox = Router(tags=["notifications"], auth=person_auth())
installs = Router(tags=["push"], auth=UserBearer())
preferences = Router(tags=["notifications"], auth=person_auth())


@inbox.get("", response=schemas.NotificationPageOut, summary="My notifications, newest first")
def list_notifications(request: AuthedRequest, query: Query[schemas.NotificationQuery]):
    items, next_cursor = selectors.notifications_page(
        request.auth, cursor=query.cursor, limit=query.limit, unread=query.unread
    )
    return {"items": items, "next_cursor": next_cursor, "unread_count": selectors.unread_count(request.auth)}


@inbox.post("/read-all", response=schemas.ReadAllOut, summary="Mark all my notifications read")
def read_all(request: AuthedRequest):
    return {"updated": services.notifications_read_all(user=request.auth.user)}


@inbox.post("/{uuid:notification_id}/read", response=schemas.NotificationOut, summary="Mark a notification read")
def read(request: AuthedRequest, notification_id: UUID):
    notification = access.access_notification(request.auth, notification_id)
    return services.notification_read(notification=notification)


@inbox.post(
    "/{uuid:notification_id}/acknowledge", response=schemas.NotificationOut, summary="Acknowledge a notification"
)
def acknowledge(request: AuthedRequest, notification_id: UUID):
    notification = access.access_notification(request.auth, notification_id)
    return services.notification_acknowledge(notification=notification)


@inbox.post(
    "/{uuid:notification_id}/snooze",
    response={201: schemas.SnoozeOut, 200: schemas.SnoozeOut},
    summary="Remind me again about a reminder in a while",
)
def snooze(request: AuthedRequest, notification_id: UUID, payload: schemas.SnoozeIn):
    notification = access.access_notification(request.auth, notification_id)
    occurrence, created = reminders.reminder_snooze(
        actor=request.auth, notification=notification, minutes=payload.minutes
    )
    return Status(201 if created else 200, presenters.snooze_out(occurrence, notification))


@preferences.get("", response=schemas.PreferencesOut, summary="My notification preferences and quiet hours")
def get_preferences(request: AuthedRequest):
    return presenters.preferences_out(reminders.preferences_of(request.auth.user))


@preferences.put("", response=schemas.PreferencesOut, summary="Replace my notification preferences and quiet hours")
def replace_preferences(request: AuthedRequest, payload: schemas.PreferencesIn):
    changed = reminders.preferences_replace(user=request.auth.user, **payload.model_dump())
    return presenters.preferences_out(changed)


@installs.put(
    "",
    response={200: schemas.PushInstallOut, 201: schemas.PushInstallOut},
    summary="Register or refresh this app install's push token",
)
def register_install(request: AuthedRequest, payload: schemas.PushInstallIn):
    install, created = services.push_install_register(actor=request.auth, **payload.model_dump())
    session_id = request.auth.session.pk if request.auth.session else None
    return Status(201 if created else 200, presenters.push_install_out(install, session_id))


@installs.get("", response=schemas.PushInstallsOut, summary="The app installs that receive my pushes")
def list_installs(request: AuthedRequest):
    session_id = request.auth.session.pk if request.auth.session else None
    installs = selectors.push_installs_of(request.auth)
    return {"items": [presenters.push_install_out(item, session_id) for item in installs]}


@installs.delete("/{uuid:install_id}", response={204: None}, summary="Stop pushes to an app install")
def delete_install(request: AuthedRequest, install_id: UUID):
    services.push_install_delete(install=access.access_push_install(request.auth, install_id))
    return Status(204, None)


ROUTERS: list[tuple[str, Router]] = [
    ("/notifications", inbox),
    ("/me/push-installs", installs),
    ("/me/notification-preferences", preferences),
]
