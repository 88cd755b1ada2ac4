"""The inbox: what notify stores, and what its owner can list, read and acknowledge over the API."""

from datetime import date, datetime, timedelta
from io import StringIO
from typing import Any
from uuid import uuid4

import pytest
from channels.layers import channel_layers
from django.utils import timezone

from notifications import texts
from notifications.models import Notification, StreamEvent
from notifications.services import notify

pytestmark = pytest.mark.django_db

SAMPLE_PARAMS: dict[str, dict[str, Any]] = {
    "session.encouragement": {"count": 4},
    "episode.ending_soon": {"end_date": date(2026, 3, 29)},
}


def notify_one(user: Any, kind: str = "request.answered", **kwargs: Any) -> Notification:
    kwargs.setdefault("refs", {"request_id": uuid4()})
    [notification] = notify(recipients=[user], kind=kind, **kwargs)
    return notification


def inbox(client: Any, **query: Any) -> dict[str, Any]:
    response = client.get("/api/v1/notifications", query)
    assert response.status_code == 200, response.content
    return response.json()


# --- Texts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(texts.KINDS))
def test_every_kind_renders_in_danish_and_english_with_a_neutral_push_text(kind):
    rendered = texts.render(kind, SAMPLE_PARAMS.get(kind, {}))
    for text in (rendered.text_da, rendered.text_en, rendered.push_text_da, rendered.push_text_en):
        assert text and "{" not in text and "}" not in text
    assert rendered.text_da != rendered.text_en
    assert rendered.push_text_da in {push.da for push in (texts.MESSAGE, texts.REMINDER, texts.ALERT)}


def test_counts_and_dates_are_written_for_each_language():
    one = texts.render("session.encouragement", {"count": 1})
    many = texts.render("session.encouragement", {"count": 5})
    assert one.text_da == "Godt gået! Din træning er registreret."
    assert many.text_en == "Well done! You have trained 5 days in a row."
    ending = texts.render("episode.ending_soon", {"end_date": date(2026, 3, 29)})
    assert ending.text_da == "Et forløb slutter 29. marts 2026."
    assert ending.text_en == "A course ends on 29 March 2026."


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("no.such.kind", {}),
        ("session.encouragement", {}),
        ("request.answered", {"name": "Anna"}),
        ("session.encouragement", {"count": True}),
        ("session.encouragement", {"count": "x" * 61}),
        ("episode.ending_soon", {"end_date": datetime(2026, 3, 29, 10, 0)}),  # noqa: DTZ001 — naive on purpose
    ],
)
def test_a_kind_or_parameters_that_do_not_fit_are_refused_and_nothing_is_stored(world, kind, params):
    with pytest.raises(ValueError):
        notify(recipients=[world.citizen.user], kind=kind, refs={}, params=params)
    assert not Notification.objects.exists()
    assert not StreamEvent.objects.exists()


@pytest.mark.parametrize(
    "refs",
    [{"citizen": uuid4()}, {"citizen_id": "Anna Hansen"}, {"citizen_id": {"nested": 1}}, {"pain_note_id": 1.5}],
)
def test_references_are_ids_only(world, refs):
    with pytest.raises(ValueError):
        notify(recipients=[world.citizen.user], kind="goal.rated", refs=refs)
    assert not Notification.objects.exists()


# --- notify ---------------------------------------------------------------------------------------


def test_notify_stores_one_notification_and_one_stream_event_per_recipient(world):
    citizen_id = world.citizen.pk
    made = notify(
        recipients=[world.citizen.user, world.relative_with_consent.user, world.citizen.user],
        kind="session.cheer",
        refs={"citizen_id": citizen_id, "session_log_id": 17},
        team_ids=[world.team.pk],
    )
    assert {notification.recipient_id for notification in made} == {
        world.citizen.user.pk,
        world.relative_with_consent.user.pk,
    }
    events = list(StreamEvent.objects.order_by("id"))
    assert [(event.user_id, event.payload) for event in events[:2]] == [
        (notification.recipient_id, {"id": str(notification.pk)}) for notification in made
    ]
    team_event = events[2]
    assert (team_event.team_id, team_event.type) == (world.team.pk, "session.cheer")
    assert team_event.payload == {"citizen_id": str(citizen_id), "session_log_id": 17}


def test_a_producer_that_runs_twice_makes_one_notification_and_one_team_event(world):
    for _ in range(2):
        notify(
            recipients=[world.citizen.user],
            kind="goal.rated",
            refs={"goal_id": uuid4()},
            dedupe_key="goal.rated:rating-42",
            team_ids=[world.team.pk],
        )
    assert Notification.objects.count() == 1
    assert StreamEvent.objects.filter(team=world.team).count() == 1
    assert StreamEvent.objects.filter(user=world.citizen.user).count() == 1
    # The same key for someone new still reaches them.
    notify(
        recipients=[world.citizen.user, world.relative_with_consent.user],
        kind="goal.rated",
        refs={},
        dedupe_key="goal.rated:rating-42",
    )
    assert Notification.objects.count() == 2


def test_a_channel_layer_that_raises_neither_fails_notify_nor_loses_the_notification(
    world, settings, django_capture_on_commit_callbacks, caplog
):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.notifications.test_inbox.BrokenChannelLayer"}}
    channel_layers.backends.clear()
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            notification = notify_one(world.citizen.user)
    finally:
        channel_layers.backends.clear()
    assert callbacks, "the announcement ran after commit"
    assert any("wait for replay" in record.getMessage() for record in caplog.records)
    assert Notification.objects.filter(pk=notification.pk).exists()
    assert StreamEvent.objects.filter(user=world.citizen.user, payload={"id": str(notification.pk)}).exists()
    assert inbox(world.client("citizen"))["items"][0]["id"] == str(notification.pk)


class BrokenChannelLayer:
    """A channel layer whose server is gone: every call raises, as channels_redis does with Redis down."""

    def __init__(self, **kwargs: Any) -> None:
        pass

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        raise ConnectionError("Redis is down")


# --- Listing --------------------------------------------------------------------------------------


def test_a_notification_appears_in_its_recipients_inbox_in_the_requested_language(world):
    notification = notify_one(world.citizen.user, refs={"request_id": uuid4()})
    danish = inbox(world.client("citizen"))
    english = world.client("citizen").get("/api/v1/notifications", headers={"Accept-Language": "en"}).json()
    assert danish["items"][0]["text"] == "Du har fået svar på din henvendelse."
    assert english["items"][0]["text"] == "Your request has been answered."
    item = danish["items"][0]
    assert item["id"] == str(notification.pk)
    assert item["kind"] == "request.answered"
    assert item["refs"] == notification.refs
    assert item["read_at"] is None and item["acknowledged_at"] is None
    assert danish["unread_count"] == 1
    assert inbox(world.client("other_citizen"))["items"] == []


def test_the_inbox_is_newest_first_paged_by_cursor_and_filters_unread(world):
    now = timezone.now()
    made = []
    for index in range(5):
        notification = notify_one(world.citizen.user)
        Notification.objects.filter(pk=notification.pk).update(created_at=now - timedelta(minutes=index))
        made.append(str(notification.pk))
    Notification.objects.filter(pk=made[1]).update(read_at=now)

    client = world.client("citizen")
    first = inbox(client, limit=2)
    second = inbox(client, limit=2, cursor=first["next_cursor"])
    third = inbox(client, limit=2, cursor=second["next_cursor"])
    assert [item["id"] for item in first["items"] + second["items"] + third["items"]] == made
    assert third["next_cursor"] is None
    unread = inbox(client, unread="true")
    assert [item["id"] for item in unread["items"]] == [made[0], *made[2:]]
    assert unread["unread_count"] == 4


def test_a_page_is_capped_and_a_bad_cursor_is_a_422(world):
    for _ in range(3):
        notify_one(world.citizen.user)
    client = world.client("citizen")
    assert len(inbox(client, limit=1000)["items"]) == 3
    response = client.get("/api/v1/notifications", {"cursor": "not-a-cursor"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"


def test_listing_costs_the_same_number_of_queries_for_3_and_30_notifications(world, django_assert_num_queries):
    client = world.client("citizen")
    for _ in range(3):
        notify_one(world.citizen.user)
    with django_assert_num_queries(3) as few:  # token, page, unread count
        assert len(inbox(client)["items"]) == 3
    for _ in range(27):
        notify_one(world.citizen.user)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(inbox(client)["items"]) == 30


# --- Read and acknowledge -------------------------------------------------------------------------


def test_read_then_acknowledge_and_both_are_idempotent(world):
    notification = notify_one(world.citizen.user)
    client = world.client("citizen")

    read = client.post(f"/api/v1/notifications/{notification.pk}/read")
    assert read.status_code == 200
    read_at = read.json()["read_at"]
    assert read_at is not None and read.json()["acknowledged_at"] is None
    again = client.post(f"/api/v1/notifications/{notification.pk}/read")
    assert again.json()["read_at"] == read_at

    acknowledged = client.post(f"/api/v1/notifications/{notification.pk}/acknowledge")
    assert acknowledged.status_code == 200
    acknowledged_at = acknowledged.json()["acknowledged_at"]
    assert acknowledged_at is not None and acknowledged.json()["read_at"] == read_at
    assert client.post(f"/api/v1/notifications/{notification.pk}/acknowledge").json()["acknowledged_at"] == (
        acknowledged_at
    )
    assert inbox(client)["unread_count"] == 0


def test_acknowledging_an_unread_notification_also_reads_it(world):
    notification = notify_one(world.citizen.user)
    body = world.client("citizen").post(f"/api/v1/notifications/{notification.pk}/acknowledge").json()
    assert body["read_at"] == body["acknowledged_at"] is not None


@pytest.mark.parametrize("action", ["read", "acknowledge"])
@pytest.mark.parametrize("role", ["other_citizen", "relative_with_consent", "staff_in_team"])
def test_another_persons_notification_is_not_found_and_stays_unchanged(world, action, role):
    notification = notify_one(world.citizen.user)
    response = world.client(role).post(f"/api/v1/notifications/{notification.pk}/{action}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    missing = world.client(role).post(f"/api/v1/notifications/{uuid4()}/{action}")
    assert missing.status_code == 404 and missing.json() == {
        **response.json(),
        "request_id": missing.json()["request_id"],
    }
    notification.refresh_from_db()
    assert notification.read_at is None and notification.acknowledged_at is None


def test_read_all_reads_only_my_unread_notifications(world):
    mine = [notify_one(world.citizen.user) for _ in range(3)]
    theirs = notify_one(world.other_citizen.user)
    world.client("citizen").post(f"/api/v1/notifications/{mine[0].pk}/read")
    response = world.client("citizen").post("/api/v1/notifications/read-all")
    assert response.status_code == 200
    assert response.json() == {"updated": 2}
    assert not Notification.objects.filter(recipient=world.citizen.user, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_recipients_are_users_not_the_citizens_they_log_in_as(world):
    with pytest.raises(TypeError):
        notify(recipients=[world.citizen], kind="request.answered", refs={})
    assert not Notification.objects.exists()


def test_stream_events_past_the_replay_window_are_purged_and_the_inbox_is_kept(world):
    from django.core.management import call_command

    old, recent = notify_one(world.citizen.user), notify_one(world.citizen.user)
    StreamEvent.objects.filter(payload={"id": str(old.pk)}).update(created_at=timezone.now() - timedelta(days=9))
    call_command("purge_stream_events", stdout=StringIO())
    assert list(StreamEvent.objects.values_list("payload", flat=True)) == [{"id": str(recent.pk)}]
    assert Notification.objects.count() == 2


@pytest.mark.django_db
def test_a_relative_whose_grant_ends_no_longer_sees_what_was_sent_about_that_citizen(world):
    from selvbetjening.models import NetworkGrant

    relative = world.relative_with_consent.user
    about = notify_one(relative, "session.cheer", refs={"citizen_id": world.citizen.pk})
    own = notify_one(relative, "encouragement.received")  # about nobody: stays
    client = world.client("relative_with_consent")
    assert {item["id"] for item in inbox(client)["items"]} == {str(about.pk), str(own.pk)}

    NetworkGrant.objects.filter(relative=world.relative_with_consent).update(revoked_at=timezone.now())
    body = inbox(client)
    assert [item["id"] for item in body["items"]] == [str(own.pk)]
    assert body["unread_count"] == 1
    assert str(world.citizen.pk) not in str(body)
    assert client.post(f"/api/v1/notifications/{about.pk}/read").status_code == 404
