"""Reminders: scheduling by source, dispatch by claims that one dispatcher holds at a time, quiet hours,
muted kinds, snooze, audiences resolved when due, and delivery to an open websocket and by push."""

import threading
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import uuid4

import pytest
from channels.db import database_sync_to_async
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.models import StaffRole
from config.asgi import application
from notifications import push, reminders
from notifications.models import (
    Notification,
    NotificationPreference,
    PushDelivery,
    QuietHours,
    ReminderOccurrence,
)
from notifications.reminders import quiet_hours_end, reminders_claim, reminders_dispatch_due
from notifications.services import (
    NotificationRequest,
    ReminderSpec,
    it_staff_audience,
    notify,
    notify_each,
    reminder_due_at,
    reminders_cancel,
    reminders_schedule,
)
from tests import factories
from tests.conftest import access_token_for
from tests.notifications.communicator import StreamCommunicator
from tests.notifications.conftest import install_for
from velfaerdsteknologi.models import MaintenanceTask
from velfaerdsteknologi.services.maintenance import maintenance_complete, maintenance_schedule

pytestmark = pytest.mark.django_db

Status = ReminderOccurrence.Status
COPENHAGEN = "Europe/Copenhagen"
T = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
TOKEN = "fcm-token-reminder-phone-0001:APA91bHun4MxP5egoKMwt2KZFBaFUH"


def schedule(user: Any, due_at: datetime, key: str | None = None, **fields: Any) -> ReminderOccurrence:
    key = key or f"slot:{uuid4()}"
    spec = {"kind": "reminder.training", "refs": {"slot_id": key.partition(":")[2]}, **fields}
    reminders_schedule(items=[ReminderSpec(recipient_id=user.pk, due_at=due_at, source_key=key, **spec)])
    return ReminderOccurrence.objects.get(recipient=user, source_key=key)


def dispatch(now: datetime, worker_id: str = "test", **kwargs: Any) -> int:
    return reminders_dispatch_due(now=now, worker_id=worker_id, **kwargs)


def inbox(user: Any) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user).order_by("created_at", "id"))


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return reminder_due_at(date(year, month, day), time(hour, minute), COPENHAGEN)


# --- Scheduling ----------------------------------------------------------------------------------


def test_scheduling_the_same_source_again_moves_the_reminder_instead_of_adding_one(world):
    user = world.citizen.user
    first = schedule(user, T, "slot:1")
    moved = schedule(user, T + timedelta(hours=2), "slot:1")
    assert moved.pk == first.pk
    assert ReminderOccurrence.objects.filter(recipient=user).count() == 1
    assert dispatch(T + timedelta(hours=1)) == 0
    assert dispatch(T + timedelta(hours=2)) == 1


def test_a_reminder_already_sent_is_left_as_it_is_when_scheduled_again(world):
    user = world.citizen.user
    schedule(user, T, "slot:1")
    assert dispatch(T) == 1
    again = schedule(user, T + timedelta(days=1), "slot:1")
    assert (again.status, again.due_at) == (Status.SENT, T)
    assert dispatch(T + timedelta(days=1)) == 0
    assert len(inbox(user)) == 1


def test_a_cancelled_reminder_is_not_sent_and_scheduling_it_again_revives_it(world):
    user = world.citizen.user
    schedule(user, T, "slot:1")
    assert reminders_cancel(source_keys=["slot:1"]) == 1
    assert dispatch(T) == 0
    assert inbox(user) == []
    schedule(user, T + timedelta(minutes=5), "slot:1")
    assert dispatch(T + timedelta(minutes=5)) == 1


def test_cancelling_for_some_recipients_leaves_the_others(world):
    citizen, relative = world.citizen.user, world.relative_with_consent.user
    schedule(citizen, T, "slot:1")
    schedule(relative, T, "slot:1", kind="reminder.training_relative")
    reminders_cancel(source_keys=["slot:1"], recipient_ids=[relative.pk])
    assert dispatch(T) == 1
    assert [n.recipient_id for n in Notification.objects.all()] == [citizen.pk]


def test_exclusive_scheduling_cancels_the_recipients_left_out(world):
    citizen, relative = world.citizen.user, world.relative_with_consent.user
    schedule(citizen, T, "slot:1")
    schedule(relative, T, "slot:1", kind="reminder.training_relative")
    reminders_schedule(
        items=[ReminderSpec(recipient_id=citizen.pk, kind="reminder.training", due_at=T, source_key="slot:1")],
        exclusive=True,
    )
    assert ReminderOccurrence.objects.get(recipient=relative).status == Status.CANCELLED
    assert ReminderOccurrence.objects.get(recipient=citizen).status == Status.SCHEDULED


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "request.answered"},  # not a reminder
        {"kind": "reminder.nonsense"},
        {"due_at": datetime(2026, 6, 10, 8, 0)},  # noqa: DTZ001 - naive on purpose
        {"source_key": ""},
        {"refs": {"note": "Ondt i knæet"}},
        {"recipient_id": None},  # neither recipient nor audience
        {"audience": "everyone:1"},
    ],
)
def test_a_reminder_that_does_not_fit_is_refused_and_nothing_is_stored(world, spec):
    fields = {
        "recipient_id": world.citizen.user.pk,
        "kind": "reminder.training",
        "due_at": T,
        "source_key": "slot:1",
        **spec,
    }
    if "audience" in spec:
        fields["recipient_id"] = None
    with pytest.raises(ValueError):
        reminders_schedule(items=[ReminderSpec(**fields)])
    assert not ReminderOccurrence.objects.exists()


def test_scheduling_costs_the_same_queries_for_one_or_forty_reminders(world):
    def queries(count: int, offset: int) -> int:
        items = [
            ReminderSpec(
                recipient_id=world.citizen.user.pk,
                kind="reminder.training",
                due_at=T + timedelta(minutes=index),
                source_key=f"slot:{offset + index}",
            )
            for index in range(count)
        ]
        with CaptureQueriesContext(connection) as captured:
            reminders_schedule(items=items)
        return len(captured)

    assert queries(1, 0) == queries(40, 100)
    assert ReminderOccurrence.objects.count() == 41


def test_local_times_are_correct_across_daylight_saving_changes():
    assert local(2026, 3, 30, 10) == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # CEST, the Monday after
    assert local(2026, 3, 27, 10) == datetime(2026, 3, 27, 9, 0, tzinfo=UTC)  # CET, the Friday before
    assert local(2026, 10, 26, 10) == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)  # CET again
    assert local(2026, 3, 29, 2, 30) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # skipped: 03:30 CEST


# --- Dispatch ------------------------------------------------------------------------------------


def test_a_due_reminder_becomes_one_inbox_notification_and_is_marked_sent(world):
    user = world.citizen.user
    occurrence = schedule(user, T, "slot:1")
    assert dispatch(T - timedelta(seconds=1)) == 0
    assert dispatch(T) == 1
    [notification] = inbox(user)
    occurrence.refresh_from_db()
    assert occurrence.status == Status.SENT
    assert occurrence.notification_id == notification.pk
    assert notification.dedupe_key == occurrence.pk.hex
    assert (notification.kind, notification.refs) == ("reminder.training", {"slot_id": "1"})
    assert notification.text_da == "Det er tid til din træning."
    assert dispatch(T + timedelta(hours=1)) == 0
    assert len(inbox(user)) == 1


def test_a_reminder_past_its_expiry_is_suppressed(world):
    occurrence = schedule(world.citizen.user, T, expires_at=T + timedelta(minutes=30))
    assert dispatch(T + timedelta(hours=1)) == 0
    occurrence.refresh_from_db()
    assert (occurrence.status, occurrence.suppressed_reason) == (Status.SUPPRESSED, "expired")
    assert inbox(world.citizen.user) == []


def test_a_deactivated_user_is_reminded_of_nothing(world):
    user = world.citizen.user
    reminder = schedule(user, T)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert dispatch(T) == 0
    reminder.refresh_from_db()
    assert (reminder.status, reminder.suppressed_reason) == (Status.SUPPRESSED, "no_recipient")
    assert inbox(user) == []


def test_a_muted_kind_is_suppressed_and_other_kinds_still_come(world):
    user = world.citizen.user
    NotificationPreference.objects.create(user=user, kind="reminder.training", is_muted=True)
    training = schedule(user, T, "slot:1")
    questionnaire = schedule(user, T, "questionnaire:1", kind="reminder.questionnaire", refs={})
    assert dispatch(T) == 1
    training.refresh_from_db()
    questionnaire.refresh_from_db()
    assert (training.status, training.suppressed_reason) == (Status.SUPPRESSED, "muted")
    assert questionnaire.status == Status.SENT
    assert [n.kind for n in inbox(user)] == ["reminder.questionnaire"]


def test_quiet_hours_defer_a_0630_reminder_to_0700_local(world):
    user = world.citizen.user
    QuietHours.objects.create(user=user, start_time=time(22), end_time=time(7), time_zone=COPENHAGEN)
    occurrence = schedule(user, local(2026, 6, 10, 6, 30))
    assert dispatch(local(2026, 6, 10, 6, 30)) == 0
    occurrence.refresh_from_db()
    assert (occurrence.status, occurrence.due_at) == (Status.SCHEDULED, local(2026, 6, 10, 7))
    assert occurrence.due_at == datetime(2026, 6, 10, 5, 0, tzinfo=UTC)
    assert inbox(user) == []
    assert dispatch(local(2026, 6, 10, 6, 59)) == 0
    assert dispatch(local(2026, 6, 10, 7)) == 1
    assert len(inbox(user)) == 1


@pytest.mark.parametrize(
    ("at", "ends"),
    [
        (local(2026, 3, 29, 6, 30), datetime(2026, 3, 29, 5, 0, tzinfo=UTC)),  # the spring change: CEST
        (local(2026, 3, 28, 6, 30), datetime(2026, 3, 28, 6, 0, tzinfo=UTC)),  # the day before: CET
        (local(2026, 10, 25, 6, 30), datetime(2026, 10, 25, 6, 0, tzinfo=UTC)),  # the autumn change: CET
        (local(2026, 6, 10, 23, 15), datetime(2026, 6, 11, 5, 0, tzinfo=UTC)),  # before midnight: next day
        (local(2026, 6, 10, 7, 0), None),  # the end itself is outside
        (local(2026, 6, 10, 21, 59), None),
    ],
)
def test_quiet_hours_end_at_their_local_time_on_the_days_the_clocks_change(at, ends):
    quiet = QuietHours(start_time=time(22), end_time=time(7), time_zone=COPENHAGEN)
    assert quiet_hours_end(quiet, at) == ends


def test_quiet_hours_within_a_day_and_in_another_zone():
    quiet = QuietHours(start_time=time(13), end_time=time(15), time_zone="America/New_York")
    at = datetime(2026, 6, 10, 18, 30, tzinfo=UTC)  # 14:30 EDT
    assert quiet_hours_end(quiet, at) == datetime(2026, 6, 10, 19, 0, tzinfo=UTC)
    assert quiet_hours_end(quiet, at + timedelta(hours=1)) is None


def test_a_deferral_past_the_expiry_suppresses_the_reminder(world):
    user = world.citizen.user
    QuietHours.objects.create(user=user, start_time=time(22), end_time=time(7), time_zone=COPENHAGEN)
    occurrence = schedule(user, local(2026, 6, 10, 5), expires_at=local(2026, 6, 10, 6))
    assert dispatch(local(2026, 6, 10, 5)) == 0
    occurrence.refresh_from_db()
    assert (occurrence.status, occurrence.suppressed_reason) == (Status.SUPPRESSED, "expired")


def test_dispatch_costs_the_same_queries_for_three_or_thirty_reminders(world):
    def queries(count: int, start: datetime) -> int:
        for _ in range(count):
            schedule(factories.CitizenFactory().user, start)
        with CaptureQueriesContext(connection) as captured:
            assert dispatch(start) == count
        return len(captured)

    assert queries(3, T) == queries(30, T + timedelta(days=1))


def test_dispatch_works_in_batches(world):
    users = [factories.CitizenFactory().user for _ in range(7)]
    for user in users:
        schedule(user, T)
    assert dispatch(T, batch_size=3) == 7
    assert Notification.objects.count() == 7
    assert set(ReminderOccurrence.objects.values_list("status", flat=True)) == {Status.SENT}


# --- Claims: crashed and concurrent dispatchers ---------------------------------------------------


def test_a_claim_whose_dispatcher_died_is_taken_over_when_its_lease_runs_out_and_sent_once(world):
    occurrence = schedule(world.citizen.user, T)
    crashed = reminders_claim(now=T, worker_id="crashed")
    assert crashed is not None
    assert dispatch(T + timedelta(seconds=30), worker_id="other") == 0  # still held
    later = T + reminders.claim_lease() + timedelta(seconds=1)
    assert dispatch(later, worker_id="other") == 1
    assert len(inbox(world.citizen.user)) == 1
    # The dispatcher that lost its claim wakes up: it no longer holds the row and sends nothing.
    assert reminders._dispatch(crashed, T)[0] == 0
    assert len(inbox(world.citizen.user)) == 1
    occurrence.refresh_from_db()
    assert occurrence.status == Status.SENT


def test_the_claim_lease_is_the_setting_a_dead_dispatchers_batch_waits_for(world, settings):
    settings.REMINDER_CLAIM_LEASE_SECONDS = 20
    schedule(world.citizen.user, T)
    assert reminders_claim(now=T, worker_id="crashed") is not None
    assert dispatch(T + timedelta(seconds=20), worker_id="other") == 0  # the lease has not run out yet
    assert dispatch(T + timedelta(seconds=21), worker_id="other") == 1
    assert len(inbox(world.citizen.user)) == 1


def test_a_dispatch_that_fails_midway_stores_nothing_and_the_next_one_sends_once(world, monkeypatch):
    schedule(world.citizen.user, T)
    real = reminders.notify_each

    def failing(**kwargs: Any) -> Any:
        real(**kwargs)
        raise RuntimeError("killed")

    monkeypatch.setattr(reminders, "notify_each", failing)
    with pytest.raises(RuntimeError):
        dispatch(T)
    assert inbox(world.citizen.user) == []
    monkeypatch.setattr(reminders, "notify_each", real)
    assert dispatch(T + reminders.claim_lease() + timedelta(seconds=1)) == 1
    assert len(inbox(world.citizen.user)) == 1


def test_a_notification_already_made_for_the_reminder_is_not_made_again(world):
    occurrence = schedule(world.citizen.user, T)
    [earlier] = notify_each(
        requests=[
            NotificationRequest(
                recipient_id=world.citizen.user.pk, kind="reminder.training", refs={}, dedupe_key=occurrence.pk.hex
            )
        ]
    )
    assert dispatch(T) == 1
    occurrence.refresh_from_db()
    assert occurrence.notification_id == earlier
    assert len(inbox(world.citizen.user)) == 1


def test_two_claims_at_the_same_moment_get_different_reminders(world):
    users = [factories.CitizenFactory().user for _ in range(3)]
    for user in users:
        schedule(user, T)
    first = reminders_claim(now=T, worker_id="one", limit=2)
    second = reminders_claim(now=T, worker_id="two", limit=2)
    assert reminders_claim(now=T, worker_id="three", limit=2) is None
    held = {
        token: set(ReminderOccurrence.objects.filter(claimed_by=token).values_list("pk", flat=True))
        for token in (first, second)
    }
    assert len(held[first]) == 2 and len(held[second]) == 1
    assert not held[first] & held[second]


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_never_send_the_same_reminder():
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks that skip locked rows across connections (PostgreSQL)")
    users = [factories.CitizenFactory().user for _ in range(120)]
    for user in users:
        schedule(user, T)
    start = threading.Barrier(2)
    sent: dict[str, int] = {}

    def worker(name: str) -> None:
        try:
            start.wait()
            sent[name] = 0
            for _ in range(5):
                sent[name] += dispatch(T, worker_id=name, batch_size=7)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(sent.values()) == 120
    assert Notification.objects.count() == 120
    assert ReminderOccurrence.objects.filter(status=Status.SENT).count() == 120
    assert len(set(Notification.objects.values_list("dedupe_key", flat=True))) == 120


# --- Audiences: the municipality's IT staff of the day ---------------------------------------------


def it_member(team: Any, municipality: Any, role: str = StaffRole.IT) -> Any:
    member = factories.StaffFactory(municipality=municipality)
    factories.MembershipFactory(staff=member, team=team, role=role)
    return member


def test_a_maintenance_reminder_reaches_the_it_staff_of_the_day_at_0800_local(world):
    device = factories.DeviceFactory(
        municipality=world.municipality, model__test_call_interval_days=None, model__battery_check_interval_days=None
    )
    maintenance_schedule(device=device, today=date(2026, 3, 1))
    service = MaintenanceTask.objects.get(device=device, kind="service")
    occurrence = ReminderOccurrence.objects.get(source_key=f"maintenance:{service.pk}")
    assert occurrence.recipient_id is None
    assert occurrence.audience == it_staff_audience(world.municipality.pk)
    assert occurrence.due_at == local(service.due_on.year, service.due_on.month, service.due_on.day, 8)

    newcomer = it_member(world.it_team, world.municipality)
    elsewhere = factories.TeamFactory(unit=factories.OrganisationUnitFactory())
    it_member(elsewhere, elsewhere.unit.municipality)
    it_member(world.it_team, world.municipality, role=StaffRole.THERAPIST)
    assert dispatch(occurrence.due_at) == 2
    assert set(Notification.objects.filter(kind="reminder.maintenance").values_list("recipient_id", flat=True)) == {
        world.it_staff.user_id,
        newcomer.user_id,
    }
    assert dispatch(occurrence.due_at + timedelta(minutes=1)) == 0


def test_completing_maintenance_cancels_its_reminder_and_schedules_the_next(world):
    device = factories.DeviceFactory(municipality=world.municipality)
    maintenance_schedule(device=device, today=date(2026, 3, 1))
    call = MaintenanceTask.objects.get(device=device, kind="test_call")
    maintenance_complete(task=call, by=world.it_staff.user, result="passed")
    assert ReminderOccurrence.objects.get(source_key=f"maintenance:{call.pk}").status == Status.CANCELLED
    following = MaintenanceTask.objects.get(device=device, kind="test_call", completed_at__isnull=True)
    assert ReminderOccurrence.objects.get(source_key=f"maintenance:{following.pk}").status == Status.SCHEDULED


# --- Snooze --------------------------------------------------------------------------------------


def sent_reminder(world: Any) -> Notification:
    schedule(world.citizen.user, T, "slot:snoozed")
    dispatch(T)
    return inbox(world.citizen.user)[-1]


def test_snoozing_a_reminder_reminds_again_later_with_the_same_references(world):
    notification = sent_reminder(world)
    before = timezone.now()
    response = world.client("citizen").post(f"/api/v1/notifications/{notification.pk}/snooze", {"minutes": 15})
    assert response.status_code == 201, response.content
    body = response.json()
    due_at = ReminderOccurrence.objects.get(pk=body["id"]).due_at
    assert before + timedelta(minutes=15) <= due_at <= timezone.now() + timedelta(minutes=15)
    assert abs(datetime.fromisoformat(body["due_at"]) - due_at) < timedelta(seconds=1)
    assert body["snoozed_notification_id"] == str(notification.pk)
    notification.refresh_from_db()
    assert notification.read_at is not None

    assert dispatch(due_at - timedelta(seconds=1)) == 0
    assert dispatch(due_at) == 1
    latest = inbox(world.citizen.user)[-1]
    assert latest.pk != notification.pk
    assert (latest.kind, latest.refs) == (notification.kind, notification.refs)
    snoozed = ReminderOccurrence.objects.get(pk=body["id"])
    assert snoozed.snoozed_from == ReminderOccurrence.objects.get(notification=notification)


def test_snoozing_again_before_it_reminds_moves_the_same_reminder(world):
    notification = sent_reminder(world)
    client = world.client("citizen")
    first = client.post(f"/api/v1/notifications/{notification.pk}/snooze", {"minutes": 5}).json()
    second = client.post(f"/api/v1/notifications/{notification.pk}/snooze", {"minutes": 60})
    assert second.status_code == 200
    assert second.json()["id"] == first["id"]
    assert ReminderOccurrence.objects.filter(snoozed_from__isnull=False).count() == 1
    assert datetime.fromisoformat(second.json()["due_at"]) > datetime.fromisoformat(first["due_at"])


def test_a_snoozed_reminder_is_cancelled_with_its_source(world):
    notification = sent_reminder(world)
    body = world.client("citizen").post(f"/api/v1/notifications/{notification.pk}/snooze", {"minutes": 5}).json()
    reminders_cancel(source_keys=["slot:snoozed"])
    assert ReminderOccurrence.objects.get(pk=body["id"]).status == Status.CANCELLED


@pytest.mark.parametrize("minutes", [4, 721, "soon", None])
def test_snooze_minutes_outside_5_to_720_are_a_422_naming_the_field(world, minutes):
    notification = sent_reminder(world)
    response = world.client("citizen").post(f"/api/v1/notifications/{notification.pk}/snooze", {"minutes": minutes})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "minutes"
    assert not ReminderOccurrence.objects.filter(snoozed_from__isnull=False).exists()


def test_another_persons_reminder_cannot_be_snoozed_and_is_not_found(world):
    notification = sent_reminder(world)
    response = world.client("other_citizen").post(f"/api/v1/notifications/{notification.pk}/snooze", {"minutes": 5})
    assert response.status_code == 404
    assert not ReminderOccurrence.objects.filter(snoozed_from__isnull=False).exists()


def test_an_acknowledged_reminder_cannot_be_snoozed(world):
    notification = sent_reminder(world)
    client = world.client("citizen")
    assert client.post(f"/api/v1/notifications/{notification.pk}/acknowledge").status_code == 200
    response = client.post(f"/api/v1/notifications/{notification.pk}/snooze", {"minutes": 5})
    assert (response.status_code, response.json()["code"]) == (409, "already_acknowledged")
    assert not ReminderOccurrence.objects.filter(snoozed_from__isnull=False).exists()


def test_only_a_reminder_can_be_snoozed(world):
    [message] = notify(recipients=[world.citizen.user], kind="request.answered", refs={})
    response = world.client("citizen").post(f"/api/v1/notifications/{message.pk}/snooze", {"minutes": 5})
    assert (response.status_code, response.json()["code"]) == (409, "not_a_reminder")
    assert not ReminderOccurrence.objects.exists()


def test_a_snooze_that_has_reminded_points_to_the_new_notification(world):
    notification = sent_reminder(world)
    client = world.client("citizen")
    body = client.post(f"/api/v1/notifications/{notification.pk}/snooze", {"minutes": 5}).json()
    assert dispatch(ReminderOccurrence.objects.get(pk=body["id"]).due_at) == 1
    response = client.post(f"/api/v1/notifications/{notification.pk}/snooze", {"minutes": 5})
    assert (response.status_code, response.json()["code"]) == (409, "already_snoozed")


# --- Delivery: push and websocket -----------------------------------------------------------------


def test_a_reminder_is_pushed_once_through_fcm(world, fcm):
    install_for(world.citizen.user, TOKEN)
    schedule(world.citizen.user, T)
    assert dispatch(T) == 1
    [notification] = inbox(world.citizen.user)
    [received] = fcm.delivered(TOKEN)
    assert received.message["data"] == {"type": "notification", "id": str(notification.pk), "version": "1"}
    assert received.message["notification"]["body"] == "Du har en påmindelse i Mestring."
    assert dispatch(T + timedelta(minutes=1)) == 0
    push.push_deliver()
    assert len(fcm.requests_for(TOKEN)) == 1


def test_a_push_lost_with_its_dispatcher_is_sent_once_by_the_periodic_run_once_its_claim_ran_out(
    world, fcm, monkeypatch
):
    install_for(world.citizen.user, TOKEN)
    schedule(world.citizen.user, T)
    real = push.push_deliver_claimed

    def killed(**kwargs: Any) -> Any:
        raise RuntimeError("killed")

    monkeypatch.setattr(push, "push_deliver_claimed", killed)
    assert dispatch(T) == 1
    assert fcm.requests_for(TOKEN) == []
    delivery = PushDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (PushDelivery.Status.SENDING, 1), "stored held by the dispatcher"
    monkeypatch.setattr(push, "push_deliver_claimed", real)
    assert push.push_deliver().sent == 0, "no other run takes a delivery the dispatcher still holds"
    assert fcm.requests_for(TOKEN) == []
    assert delivery.claimed_until is not None
    after_the_lease = delivery.claimed_until + timedelta(seconds=1)
    assert push.push_deliver(now=after_the_lease).sent == 1
    assert push.push_deliver(now=after_the_lease).sent == 0
    assert len(fcm.requests_for(TOKEN)) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.claim) == (PushDelivery.Status.SENT, 2, "")


def test_a_dispatched_batch_is_pushed_without_claiming_its_deliveries_again(world, fcm):
    users = [factories.CitizenFactory().user for _ in range(3)]
    for index, user in enumerate(users):
        install_for(user, f"{TOKEN}-{index}")
        schedule(user, T)
    with CaptureQueriesContext(connection) as captured:
        assert dispatch(T) == 3
    assert len(fcm.delivered()) == 3
    assert set(PushDelivery.objects.values_list("status", "attempts", "claim")) == {(PushDelivery.Status.SENT, 1, "")}
    updates = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].lstrip().upper().startswith('UPDATE "NOTIFICATIONS_PUSHDELIVERY"')
    ]
    assert len(updates) == 1, "the deliveries were claimed a second time before they were recorded sent"


def test_with_a_push_grace_the_dispatcher_claims_no_delivery_and_the_periodic_run_sends_it(world, fcm, settings):
    settings.PUSH_GRACE_SECONDS = 60
    install_for(world.citizen.user, TOKEN)
    schedule(world.citizen.user, T)
    assert dispatch(T) == 1
    delivery = PushDelivery.objects.get()
    assert (delivery.status, delivery.claim, delivery.attempts) == (PushDelivery.Status.PENDING, "", 0)
    assert fcm.received == []
    assert push.push_deliver(now=delivery.next_attempt_at).sent == 1
    assert len(fcm.delivered(TOKEN)) == 1


def test_push_turned_off_for_the_kind_keeps_the_inbox_and_sends_no_push(world, fcm):
    install_for(world.citizen.user, TOKEN)
    NotificationPreference.objects.create(user=world.citizen.user, kind="reminder.training", push_enabled=False)
    schedule(world.citizen.user, T)
    assert dispatch(T) == 1
    assert len(inbox(world.citizen.user)) == 1
    assert not PushDelivery.objects.exists()
    assert fcm.received == []


@pytest.mark.django_db(transaction=True)
async def test_a_due_reminder_reaches_an_open_websocket(channel_layer, world):
    token = await database_sync_to_async(access_token_for)(world.citizen.user)
    stream = StreamCommunicator(application, "/ws/v1/", headers=[(b"authorization", f"Bearer {token}".encode())])
    connected, _ = await stream.connect()
    assert connected
    assert (await stream.receive_json_from())["type"] == "hello"

    now = timezone.now()
    await database_sync_to_async(schedule)(world.citizen.user, now - timedelta(seconds=1))
    assert await database_sync_to_async(dispatch)(now) == 1
    frame = await stream.receive_json_from(timeout=2)
    [notification] = await database_sync_to_async(inbox)(world.citizen.user)
    assert frame == {"type": "notification", "event_id": frame["event_id"], "id": str(notification.pk)}
    await stream.disconnect()
    await database_sync_to_async(notification.refresh_from_db)()
    assert notification.delivered_at is not None
