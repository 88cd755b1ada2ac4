"""Push delivery through the real firebase-admin client against a fake FCM server on loopback."""

import json
import logging
import threading
from datetime import UTC, datetime, time, timedelta
from unittest import mock

import firebase_admin
import google.auth.credentials
import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from firebase_admin import messaging

from backend.services.identity import session_revoke
from notifications import push
from notifications.models import Notification, PushDelivery, PushInstall, QuietHours
from notifications.services import notify, push_install_register
from notifications.stream_checks import deliveries_record
from tests import factories
from tests.notifications.conftest import FCM_PROJECT, firebase_app_start, install_for, login
from tests.notifications.fake_fcm import ACCESS_TOKEN

pytestmark = pytest.mark.django_db

TOKEN = "fcm-token-citizen-phone-0001:APA91bHun4MxP5egoKMwt2KZFBaFUH"
OTHER_TOKEN = "fcm-token-citizen-tablet-0002:APA91bHun4MxP5egoKMwt2KZFBaFUH"
HEALTH_WORDS = ("smerte", "pain", "alarm", "fald", "fall", "træning", "training", "mål", "goal")


def notify_citizen(world, django_capture_on_commit_callbacks, **kwargs):
    arguments = {
        "recipients": [world.citizen.user],
        "kind": "training_alert.raised",
        "refs": {"citizen_id": world.citizen.pk},
    }
    arguments.update(kwargs)
    with django_capture_on_commit_callbacks(execute=True):
        notifications = notify(**arguments)
    return notifications[0] if notifications else None


def delivery_of(notification: Notification, install: PushInstall) -> PushDelivery:
    return PushDelivery.objects.get(notification=notification, install=install)


def test_a_push_carries_only_the_id_and_a_neutral_text(world, fcm, immediate_tasks, django_capture_on_commit_callbacks):
    install = install_for(world.citizen.user, TOKEN, locale="en")
    notification = notify_citizen(world, django_capture_on_commit_callbacks)

    [received] = fcm.delivered(TOKEN)
    assert received.project == FCM_PROJECT
    assert received.authorization == f"Bearer {ACCESS_TOKEN}"
    assert received.message["data"] == {"type": "notification", "id": str(notification.pk), "version": "1"}
    assert received.message["notification"] == {"title": "Mestring", "body": notification.push_text_en}
    assert received.raw_size <= 4096
    text = json.dumps(received.message).lower()
    assert str(world.citizen.pk) not in text
    assert world.citizen.given_name.lower() not in text
    assert not any(word in received.message["notification"]["body"].lower() for word in HEALTH_WORDS)
    delivery = delivery_of(notification, install)
    assert delivery.status == PushDelivery.Status.SENT
    assert delivery.message_id.startswith(f"projects/{FCM_PROJECT}/messages/")
    notification.refresh_from_db()
    assert notification.delivered_at is not None


def test_the_push_text_follows_the_install_locale(world, fcm, immediate_tasks, django_capture_on_commit_callbacks):
    install_for(world.citizen.user, TOKEN, locale="da")
    install_for(world.citizen.user, OTHER_TOKEN, locale="en")
    notification = notify_citizen(world, django_capture_on_commit_callbacks, kind="request.answered")
    assert fcm.delivered(TOKEN)[0].message["notification"]["body"] == "Du har en ny besked i Mestring."
    assert fcm.delivered(OTHER_TOKEN)[0].message["notification"]["body"] == "You have a new message in Mestring."
    assert notification.push_text_da == "Du har en ny besked i Mestring."


def test_the_delivery_task_run_twice_sends_once(world, fcm, django_capture_on_commit_callbacks):
    install = install_for(world.citizen.user, TOKEN)
    notification = notify_citizen(world, django_capture_on_commit_callbacks)
    [task] = DBTaskResult.objects.filter(task_path="notifications.tasks.deliver_push")
    assert task.args_kwargs["kwargs"] == {"notification_ids": [str(notification.pk)]}
    assert fcm.received == []

    from notifications.tasks import deliver_push

    first = deliver_push.call(notification_ids=[str(notification.pk)])
    second = deliver_push.call(notification_ids=[str(notification.pk)])

    assert first["sent"] == 1
    assert second["sent"] == 0
    assert len(fcm.received) == 1
    assert delivery_of(notification, install).attempts == 1


def test_a_claimed_delivery_is_not_claimed_again_until_its_lease_runs_out(world, django_capture_on_commit_callbacks):
    install_for(world.citizen.user, TOKEN)
    notify_citizen(world, django_capture_on_commit_callbacks)
    now = timezone.now()
    first = push.deliveries_claim(now=now)
    assert len(first) == 1
    assert push.deliveries_claim(now=now) == []
    # A worker that died holding the claim: the row is due again once the lease has run out.
    again = push.deliveries_claim(now=now + push.CLAIM_LEASE + timedelta(seconds=1))
    assert [delivery.pk for delivery in again] == [first[0].pk]


def test_the_same_notification_is_not_pushed_twice_when_the_producer_runs_twice(
    world, fcm, immediate_tasks, django_capture_on_commit_callbacks
):
    install_for(world.citizen.user, TOKEN)
    notify_citizen(world, django_capture_on_commit_callbacks, dedupe_key="alert:1")
    assert notify_citizen(world, django_capture_on_commit_callbacks, dedupe_key="alert:1") is None
    assert len(fcm.received) == 1


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("UNREGISTERED", PushInstall.DisabledReason.UNREGISTERED),
        ("INVALID_ARGUMENT", PushInstall.DisabledReason.INVALID_TOKEN),
        ("SENDER_ID_MISMATCH", PushInstall.DisabledReason.SENDER_ID_MISMATCH),
    ],
)
def test_a_token_fcm_refuses_disables_its_install(
    world, fcm, immediate_tasks, django_capture_on_commit_callbacks, error, reason
):
    refused = install_for(world.citizen.user, TOKEN)
    working = install_for(world.citizen.user, OTHER_TOKEN)
    fcm.fail(TOKEN, error)

    notification = notify_citizen(world, django_capture_on_commit_callbacks)

    refused.refresh_from_db()
    assert not refused.is_active
    assert refused.disabled_reason == reason
    assert delivery_of(notification, refused).status == PushDelivery.Status.DISABLED
    assert delivery_of(notification, working).status == PushDelivery.Status.SENT

    notify_citizen(world, django_capture_on_commit_callbacks, kind="request.answered")
    assert len(fcm.requests_for(TOKEN)) == 1, "a disabled install gets no more pushes"
    assert len(fcm.requests_for(OTHER_TOKEN)) == 2

    response = world.client("citizen").get("/api/v1/me/push-installs")
    states = {item["id"]: (item["is_active"], item["disabled_reason"]) for item in response.json()["items"]}
    assert states[str(refused.pk)] == (False, reason)


def test_a_refreshed_token_enables_the_install_again(world, fcm, immediate_tasks, django_capture_on_commit_callbacks):
    install = install_for(world.citizen.user, TOKEN)
    fcm.fail(TOKEN, "UNREGISTERED")
    notify_citizen(world, django_capture_on_commit_callbacks)
    install.refresh_from_db()
    assert not install.is_active

    again = install_for(world.citizen.user, TOKEN)
    assert again.pk == install.pk and again.is_active and again.disabled_reason == ""
    notify_citizen(world, django_capture_on_commit_callbacks, kind="request.answered")
    assert len(fcm.delivered(TOKEN)) == 1


def test_an_invalid_payload_fails_the_delivery_but_keeps_the_install(
    world, fcm, immediate_tasks, django_capture_on_commit_callbacks
):
    install = install_for(world.citizen.user, TOKEN)
    fcm.fail(TOKEN, "INVALID_PAYLOAD")
    notification = notify_citizen(world, django_capture_on_commit_callbacks)
    install.refresh_from_db()
    assert install.is_active
    delivery = delivery_of(notification, install)
    assert (delivery.status, delivery.last_error) == (PushDelivery.Status.FAILED, "invalid_argument")


@pytest.mark.parametrize("failures", [["QUOTA_EXCEEDED"], ["UNAVAILABLE"] * 5, ["INTERNAL"] * 5])
def test_a_transient_error_is_retried_with_backoff_then_sent(world, fcm, django_capture_on_commit_callbacks, failures):
    install = install_for(world.citizen.user, TOKEN)
    notification = notify_citizen(world, django_capture_on_commit_callbacks)
    fcm.fail(TOKEN, *failures)  # 500 and 503 are retried by the client itself four times first
    from notifications.tasks import deliver_push

    start = timezone.now()
    assert deliver_push.call(notification_ids=[str(notification.pk)])["retried"] == 1

    delivery = delivery_of(notification, install)
    assert delivery.status == PushDelivery.Status.PENDING
    assert delivery.attempts == 1
    assert delivery.next_attempt_at >= start + timedelta(seconds=push.BACKOFF_BASE_SECONDS)
    retry = DBTaskResult.objects.filter(
        task_path="notifications.tasks.deliver_push", run_after=delivery.next_attempt_at
    ).get()
    assert retry.args_kwargs["kwargs"] == {"notification_ids": [str(notification.pk)]}

    assert push.push_deliver(notification_ids=[notification.pk]).counts()["sent"] == 0, "not due yet"
    report = push.push_deliver(notification_ids=[notification.pk], now=delivery.next_attempt_at)
    assert report.sent == 1
    assert delivery_of(notification, install).status == PushDelivery.Status.SENT
    assert len(fcm.delivered(TOKEN)) == 1
    assert len(fcm.requests_for(TOKEN)) == len(failures) + 1


def test_backoff_doubles_and_gives_up_after_the_last_attempt(world, fcm, django_capture_on_commit_callbacks):
    install = install_for(world.citizen.user, TOKEN)
    notification = notify_citizen(world, django_capture_on_commit_callbacks)
    fcm.fail(TOKEN, *["QUOTA_EXCEEDED"] * push.MAX_ATTEMPTS)
    now = timezone.now()
    waits = []
    for _ in range(push.MAX_ATTEMPTS):
        push.push_deliver(now=now)
        delivery = delivery_of(notification, install)
        if delivery.status != PushDelivery.Status.PENDING:
            break
        waits.append((delivery.next_attempt_at - now).total_seconds())
        now = delivery.next_attempt_at
    assert waits == [push.BACKOFF_BASE_SECONDS * 2**index for index in range(push.MAX_ATTEMPTS - 1)]
    assert delivery.status == PushDelivery.Status.FAILED
    assert delivery.attempts == push.MAX_ATTEMPTS
    assert len(fcm.requests_for(TOKEN)) == push.MAX_ATTEMPTS


def test_an_unreachable_fcm_server_is_a_transient_error(world, fcm, django_capture_on_commit_callbacks, monkeypatch):
    install = install_for(world.citizen.user, TOKEN)
    notification = notify_citizen(world, django_capture_on_commit_callbacks)
    monkeypatch.setattr(messaging._MessagingService, "FCM_URL", "http://127.0.0.1:9/v1/projects/{0}/messages:send")
    firebase_app_start()  # the URL is read when the client is made
    report = push.push_deliver()
    assert report.retried == 1
    assert delivery_of(notification, install).status == PushDelivery.Status.PENDING


def test_batches_hold_at_most_the_batch_size(
    world, fcm, immediate_tasks, django_capture_on_commit_callbacks, monkeypatch
):
    tokens = [f"fcm-token-batch-{index:04d}:APA91bHun4MxP5egoKMwt2KZ" for index in range(5)]
    for token in tokens:
        install_for(world.citizen.user, token)
    monkeypatch.setattr(push, "BATCH_SIZE", 2)
    with mock.patch.object(
        push.FcmTransport, "send_each", autospec=True, side_effect=push.FcmTransport.send_each
    ) as send_each:
        notify_citizen(world, django_capture_on_commit_callbacks)
    assert [len(call.args[1]) for call in send_each.call_args_list] == [2, 2, 1]
    assert {received.token for received in fcm.delivered()} == set(tokens)


def test_a_notification_read_before_its_push_is_not_pushed(world, fcm, django_capture_on_commit_callbacks):
    install = install_for(world.citizen.user, TOKEN)
    notification = notify_citizen(world, django_capture_on_commit_callbacks)
    response = world.client("citizen").post(f"/api/v1/notifications/{notification.pk}/read")
    assert response.status_code == 200
    assert push.push_deliver().skipped == 1
    assert fcm.received == []
    assert delivery_of(notification, install).status == PushDelivery.Status.SKIPPED


def test_a_signed_out_install_gets_no_push(world, fcm, immediate_tasks, django_capture_on_commit_callbacks):
    install = install_for(world.citizen.user, TOKEN)
    session_revoke(session=install.session)
    notify_citizen(world, django_capture_on_commit_callbacks)
    assert fcm.received == []
    assert not PushDelivery.objects.filter(install=install).exists()


def test_a_sign_out_after_the_notification_stops_its_push(world, fcm, django_capture_on_commit_callbacks):
    install = install_for(world.citizen.user, TOKEN)
    notification = notify_citizen(world, django_capture_on_commit_callbacks)
    session_revoke(session=install.session)
    assert push.push_deliver().disabled == 1
    assert fcm.received == []
    assert delivery_of(notification, install).status == PushDelivery.Status.DISABLED


def test_a_deactivated_user_gets_no_push(world, fcm, immediate_tasks, django_capture_on_commit_callbacks):
    install = install_for(world.citizen.user, TOKEN)
    type(world.citizen.user).objects.filter(pk=world.citizen.user.pk).update(is_active=False)
    notify_citizen(world, django_capture_on_commit_callbacks)
    assert fcm.received == []
    assert not PushDelivery.objects.filter(install=install).exists()


def test_a_user_deactivated_after_the_notification_gets_no_push(world, fcm, django_capture_on_commit_callbacks):
    install = install_for(world.citizen.user, TOKEN)
    notification = notify_citizen(world, django_capture_on_commit_callbacks)
    type(world.citizen.user).objects.filter(pk=world.citizen.user.pk).update(is_active=False)
    assert push.push_deliver().disabled == 1
    assert fcm.received == []
    assert delivery_of(notification, install).status == PushDelivery.Status.DISABLED


def test_a_token_taken_over_by_another_person_gets_nothing_meant_for_the_first(
    world, fcm, django_capture_on_commit_callbacks
):
    install = install_for(world.citizen.user, TOKEN)
    notification = notify_citizen(world, django_capture_on_commit_callbacks)
    moved = install_for(world.other_citizen.user, TOKEN)
    assert moved.pk == install.pk and moved.user == world.other_citizen.user
    push.push_deliver()
    assert fcm.received == []
    assert delivery_of(notification, install).status == PushDelivery.Status.DISABLED


def test_log_mode_writes_a_line_instead_of_sending(world, settings, caplog, django_capture_on_commit_callbacks):
    settings.PUSH_MODE = "log"
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    install = install_for(world.citizen.user, TOKEN)
    caplog.set_level(logging.INFO, logger="notifications.push")
    notification = notify_citizen(world, django_capture_on_commit_callbacks)
    lines = [record.getMessage() for record in caplog.records if record.name == "notifications.push"]
    assert len(lines) == 1
    assert str(notification.pk) in lines[0] and str(install.pk) in lines[0]
    assert TOKEN not in lines[0]
    assert delivery_of(notification, install).status == PushDelivery.Status.SENT


def test_the_embedded_default_is_log_mode(settings):
    settings.FCM_CREDENTIALS_FILE = ""
    if hasattr(settings, "PUSH_MODE"):
        del settings.PUSH_MODE
    assert push.push_mode() == "log"


def test_payloads_outside_the_allowlist_or_over_4_kb_are_refused():
    with pytest.raises(push.PushPayloadError):
        push.payload_check(push.PushPayload(data={"type": "notification", "name": "Anna"}, title="Mestring", body="x"))
    with pytest.raises(push.PushPayloadError):
        push.payload_check(push.PushPayload(data={"type": "notification"}, title="Mestring", body="x" * 4096))
    push.payload_check(push.PushPayload(data={"type": "notification", "id": "1", "version": "1"}, title="M", body="x"))


def test_a_new_token_from_the_same_login_replaces_the_old_one(world, fcm, immediate_tasks):
    pair = login(world.citizen.user)
    from backend.actors import Actor

    actor = Actor(user=world.citizen.user, session=pair.session, audience=pair.session.audience)
    old, _ = push_install_register(actor=actor, fcm_token=TOKEN, platform="ios", app_version="1", locale="da")
    new, created = push_install_register(
        actor=actor, fcm_token=OTHER_TOKEN, platform="ios", app_version="1", locale="da"
    )
    old.refresh_from_db()
    assert created and new.is_active
    assert not old.is_active and old.disabled_reason == PushInstall.DisabledReason.REPLACED


def test_a_worker_that_died_holding_deliveries_loses_nothing(world, fcm, django_capture_on_commit_callbacks):
    install = install_for(world.citizen.user, TOKEN)
    notification = notify_citizen(world, django_capture_on_commit_callbacks)
    now = timezone.now()
    assert len(push.deliveries_claim(now=now)) == 1  # claimed, then the worker is killed before sending
    assert push.push_deliver(now=now).sent == 0
    report = push.push_deliver(now=now + push.CLAIM_LEASE + timedelta(seconds=1))
    assert report.sent == 1
    assert len(fcm.delivered(TOKEN)) == 1
    assert delivery_of(notification, install).status == PushDelivery.Status.SENT


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_every_delivery_exactly_once(world, settings, caplog, monkeypatch):
    from django.db import connection

    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("row locks that skip locked rows need PostgreSQL; SQLite serialises its writers")
    settings.PUSH_MODE = "log"
    monkeypatch.setattr(push, "BATCH_SIZE", 7)
    installs = [
        install_for(world.citizen.user, f"fcm-token-worker-{index:03d}:APA91bHun4MxP5eg") for index in range(40)
    ]
    notifications = [
        notify(recipients=[world.citizen.user], kind="request.answered", refs={"request_id": index})[0]
        for index in range(5)
    ]
    caplog.set_level(logging.INFO, logger="notifications.push")
    barrier = threading.Barrier(2)
    reports: list[push.DeliveryReport] = []

    def worker() -> None:
        barrier.wait()
        try:
            reports.append(push.push_deliver())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    expected = len(installs) * len(notifications)
    assert sum(report.sent for report in reports) == expected
    assert all(report.sent > 0 for report in reports), "both workers took a share"
    lines = [record.getMessage() for record in caplog.records if record.name == "notifications.push"]
    assert len(lines) == len(set(lines)) == expected
    assert PushDelivery.objects.filter(status=PushDelivery.Status.SENT).count() == expected


def test_the_periodic_command_sends_what_is_due(world, fcm, django_capture_on_commit_callbacks):
    from io import StringIO

    from django.core.management import call_command

    notify_citizen(world, django_capture_on_commit_callbacks)  # enqueued, but no worker ran it
    install_for(world.citizen.user, TOKEN)
    notification = notify_citizen(world, django_capture_on_commit_callbacks, kind="request.answered")
    output = StringIO()
    call_command("deliver_due_push", stdout=output)
    assert "sent=1" in output.getvalue()
    assert [received.message["data"]["id"] for received in fcm.delivered(TOKEN)] == [str(notification.pk)]


def test_each_sent_delivery_keeps_the_message_id_fcm_gave_it(world, fcm, django_capture_on_commit_callbacks):
    tokens = [f"fcm-token-message-id-{index:03d}:APA91bHun4MxP5eg" for index in range(12)]
    installs = {token: install_for(world.citizen.user, token) for token in tokens}
    notification = notify_citizen(world, django_capture_on_commit_callbacks)

    assert push.push_deliver().sent == len(tokens)

    # The fake numbers its answers in the order it received the requests: message n for the n-th request.
    answered = {
        received.token: f"projects/{FCM_PROJECT}/messages/{number}"
        for number, received in enumerate(fcm.received, start=1)
    }
    for token, install in installs.items():
        delivery = delivery_of(notification, install)
        assert (delivery.status, delivery.message_id, delivery.claim) == (PushDelivery.Status.SENT, answered[token], "")
        assert delivery.sent_at is not None
    notification.refresh_from_db()
    assert notification.delivered_at is not None


def test_recording_sent_deliveries_works_without_update_from_values(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    from django.db import connection

    installs = [install_for(world.citizen.user, f"fcm-token-fallback-{index}:APA91bHun4MxP5eg") for index in range(3)]
    notification = notify_citizen(world, django_capture_on_commit_callbacks)
    deliveries = [delivery_of(notification, install) for install in installs]
    now = timezone.now()
    monkeypatch.setattr(connection, "vendor", "another")
    push._record_sent([(delivery.pk, f"message-{delivery.pk}") for delivery in deliveries], now)
    monkeypatch.undo()
    for delivery in deliveries:
        delivery.refresh_from_db()
        assert (delivery.status, delivery.message_id, delivery.sent_at) == (
            PushDelivery.Status.SENT,
            f"message-{delivery.pk}",
            now,
        )


def test_delivering_a_batch_costs_the_same_queries_for_2_or_20_installs(world, fcm, django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(count: int, kind: str) -> int:
        user = factories.CitizenFactory().user
        for index in range(count):
            install_for(user, f"fcm-token-{kind}-{index:03d}:APA91bHun4MxP5eg")
        notify_citizen(world, django_capture_on_commit_callbacks, recipients=[user], kind=kind)
        with CaptureQueriesContext(connection) as captured:
            assert push.push_deliver().sent == count
        return len(captured)

    assert queries(2, "request.answered") == queries(20, "training_alert.raised")


def test_a_full_batch_goes_out_on_kept_connections_and_the_next_batch_reuses_them(
    world, fcm, django_capture_on_commit_callbacks, caplog
):
    count = 150  # more than the 100 connections firebase-admin keeps to FCM by itself
    user = factories.CitizenFactory().user
    for index in range(count):
        install_for(user, f"fcm-token-batch-{index:03d}:APA91bHun4MxP5eg")
    fcm.delay = 0.3  # every message of a batch in flight at once, as against FCM over the internet
    for kind in ("request.answered", "training_alert.raised"):
        notify_citizen(world, django_capture_on_commit_callbacks, recipients=[user], kind=kind)
        assert push.push_deliver().sent == count
    assert len(fcm.delivered()) == 2 * count
    assert fcm.connections <= count, "connections were dropped after the first batch and opened again"
    assert not [record for record in caplog.records if "pool is full" in record.getMessage()]


class RenewableCredential(google.auth.credentials.Credentials):
    """An access token FCM no longer takes until it is renewed (as one that ran out between two batches)."""

    def __init__(self) -> None:
        super().__init__()
        self.token = "an-access-token-that-ran-out"
        self.renewals = 0

    def refresh(self, request: object) -> None:
        self.token = ACCESS_TOKEN
        self.renewals += 1


def test_a_token_fcm_no_longer_accepts_is_renewed_and_the_push_sent_once(
    world, fcm, django_capture_on_commit_callbacks, monkeypatch
):
    install = install_for(world.citizen.user, TOKEN)
    notification = notify_citizen(world, django_capture_on_commit_callbacks)
    credential = RenewableCredential()
    service = messaging._get_messaging_service(firebase_admin.get_app(push.FIREBASE_APP_NAME))
    monkeypatch.setattr(service, "_credential", credential)

    assert push.push_deliver().sent == 1
    assert credential.renewals == 1, "FCM refused the old token once; the credential was renewed once"
    assert [item.answered for item in fcm.requests_for(TOKEN)] == ["ok"]
    assert delivery_of(notification, install).status == PushDelivery.Status.SENT


def test_a_batch_is_sent_from_the_same_threads_as_the_one_before(world, fcm, django_capture_on_commit_callbacks):
    """Not a thread per message (firebase-admin's ``send_each`` starts up to 500 for each batch)."""
    user = factories.CitizenFactory().user
    for index in range(push.FCM_CONNECTIONS + 6):
        install_for(user, f"fcm-token-threads-{index:03d}:APA91bHun4MxP5eg")
    transport = push.fcm_transport(firebase_admin.get_app(push.FIREBASE_APP_NAME))
    threads = []
    for kind in ("request.answered", "training_alert.raised"):
        notify_citizen(world, django_capture_on_commit_callbacks, recipients=[user], kind=kind)
        assert push.push_deliver().sent == push.FCM_CONNECTIONS + 6
        threads.append({thread.ident for thread in transport.executor._threads})  # type: ignore[attr-defined]
    assert threads[0] and threads[0] <= threads[1], "the first batch's threads still send the second"
    assert len(threads[1]) <= push.FCM_CONNECTIONS
    assert fcm.connections <= push.FCM_CONNECTIONS


def test_marking_sent_in_one_statement_matches_the_orm(world, django_capture_on_commit_callbacks):
    """``_record_sent``'s UPDATE … FROM (VALUES …) leaves a row as the ORM's two updates leave another."""
    first, second = install_for(world.citizen.user, TOKEN), install_for(world.citizen.user, OTHER_TOKEN)
    with django_capture_on_commit_callbacks(execute=False):
        [notification] = notify(
            recipients=[world.citizen.user], kind="training_alert.raised", refs={"citizen_id": world.citizen.pk}
        )
    raw, orm = delivery_of(notification, first), delivery_of(notification, second)
    PushDelivery.objects.filter(pk__in=[raw.pk, orm.pk]).update(
        claim="held-by-a-run", status=PushDelivery.Status.SENDING
    )
    now = timezone.now()
    push._record_sent([(raw.pk, f"projects/p/messages/{raw.pk}")], now)
    push._record_sent_orm([(orm.pk, f"projects/p/messages/{orm.pk}")], now)

    def state(delivery):
        return PushDelivery.objects.values("status", "sent_at", "claim", "attempts", "last_error").get(pk=delivery.pk)

    assert state(raw) == state(orm)
    assert state(raw)["status"] == PushDelivery.Status.SENT and state(raw)["sent_at"] == now
    for delivery in (raw, orm):
        assert PushDelivery.objects.get(pk=delivery.pk).message_id == f"projects/p/messages/{delivery.pk}"


def test_an_egress_proxy_from_the_environment_is_still_used(
    world, fcm, django_capture_on_commit_callbacks, monkeypatch
):
    install = install_for(world.citizen.user, TOKEN)
    notification = notify_citizen(world, django_capture_on_commit_callbacks)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there: a proxy that is down

    assert push.push_deliver().retried == 1
    assert fcm.received == [], "the push went to the proxy, not past it"
    assert delivery_of(notification, install).status == PushDelivery.Status.PENDING


# --- Waiting for the websocket ----------------------------------------------------------------------


def test_a_push_waits_for_the_open_app_and_is_skipped_when_the_websocket_delivered_it(
    world, fcm, settings, django_capture_on_commit_callbacks
):
    settings.PUSH_GRACE_SECONDS = 5
    install = install_for(world.citizen.user, TOKEN)
    streamed, missed = (notify_citizen(world, django_capture_on_commit_callbacks, dedupe_key=key) for key in "ab")
    created = delivery_of(streamed, install).created_at
    assert delivery_of(streamed, install).next_attempt_at == created + timedelta(seconds=5)
    tasks = DBTaskResult.objects.filter(task_path="notifications.tasks.deliver_push")
    assert tasks.count() == 2
    assert all(task.run_after is not None and task.run_after >= created + timedelta(seconds=5) for task in tasks)

    assert push.push_deliver(now=created + timedelta(seconds=4)).sent == 0
    assert deliveries_record([(str(world.citizen.user.pk), str(streamed.pk))]) == 1
    report = push.push_deliver(now=created + timedelta(seconds=6))
    assert (report.sent, report.skipped) == (1, 1)
    assert delivery_of(streamed, install).status == PushDelivery.Status.SKIPPED
    assert delivery_of(missed, install).status == PushDelivery.Status.SENT
    [received] = fcm.delivered(TOKEN)
    assert received.message["data"]["id"] == str(missed.pk)
    streamed.refresh_from_db()
    assert streamed.delivered_at is not None and streamed.streamed_at is not None


def test_a_notification_streamed_after_its_push_was_sent_keeps_both_times(
    world, fcm, immediate_tasks, django_capture_on_commit_callbacks
):
    install_for(world.citizen.user, TOKEN)
    notification = notify_citizen(world, django_capture_on_commit_callbacks)
    notification.refresh_from_db()
    pushed_at = notification.delivered_at
    assert pushed_at is not None and notification.streamed_at is None
    assert deliveries_record([(str(world.citizen.user.pk), str(notification.pk))]) == 1
    assert deliveries_record([(str(world.other_citizen.user.pk), str(notification.pk))]) == 0
    notification.refresh_from_db()
    assert notification.delivered_at == pushed_at and notification.streamed_at is not None


def test_quiet_hours_hold_a_push_that_can_wait_until_they_end_but_not_an_alert(
    world, fcm, django_capture_on_commit_callbacks
):
    install = install_for(world.citizen.user, TOKEN)
    QuietHours.objects.create(
        user=world.citizen.user, start_time=time(22), end_time=time(7), time_zone="Europe/Copenhagen"
    )
    late_evening = datetime(2026, 1, 15, 22, 0, tzinfo=UTC)  # 23:00 in Copenhagen
    with mock.patch("django.utils.timezone.now", return_value=late_evening):
        answered = notify_citizen(world, django_capture_on_commit_callbacks, kind="request.answered")
        alert = notify_citizen(world, django_capture_on_commit_callbacks, kind="training_alert.raised")
    morning = datetime(2026, 1, 16, 6, 0, tzinfo=UTC)  # 07:00 in Copenhagen
    assert delivery_of(answered, install).next_attempt_at == morning
    assert delivery_of(alert, install).next_attempt_at == late_evening

    assert push.push_deliver(now=late_evening).sent == 1
    assert [received.message["data"]["id"] for received in fcm.delivered(TOKEN)] == [str(alert.pk)]
    assert push.push_deliver(now=morning - timedelta(seconds=1)).sent == 0
    assert push.push_deliver(now=morning).sent == 1
    assert [received.message["data"]["id"] for received in fcm.delivered(TOKEN)][-1] == str(answered.pk)
